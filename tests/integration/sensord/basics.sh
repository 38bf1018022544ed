#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sensord's command line, exit codes, config errors (a control character
# in the device id among them) and production rules (no bus, no chips),
# then a normal run on emulated chips: records over the socket, status,
# metrics file, systemd readiness/watchdog, a second instance
# refused, SIGHUP, a clean SIGTERM (socket removed, journal clean) and a
# restart that continues the same journal's seqs.
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf '"journal": {"fsync": "interval", "fsync_interval_ms": 200},'

"$BIN/sensord" --version | grep -q '^sensord ' || fail "--version"
"$BIN/sensord" --help | grep -q 'verify-journal' || fail "--help"
rc=0; "$BIN/sensord" --bogus 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"
rc=0; "$BIN/sensord" -f "$SENSORD_CONF" --interval 0 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "--interval 0: exit $rc, want 2"
[ "$("$BIN/sensord" -f "$SENSORD_CONF" -n)" = "configuration OK" ] || fail "-n"
printf '{"interval_ms": "fast"}' >"$T/bad.json"
rc=0; "$BIN/sensord" -f "$T/bad.json" -n 2>"$T/err" || rc=$?
[ $rc -eq 3 ] || fail "bad config: exit $rc, want 3"
grep -q '"interval_ms": expected integer' "$T/err" || fail "config message: $(cat "$T/err")"
rc=0; "$BIN/sensord" -f "$T/missing.json" -n 2>/dev/null || rc=$?
[ $rc -eq 3 ] || fail "missing config: exit $rc, want 3"
# a device id with a control character would go into every log line as it
# is: a newline there forges a line, an escape rewrites the terminal
printf '{"device": "pi\\nsensord[1]: forged"}' >"$T/ctl.json"
rc=0; "$BIN/sensord" -f "$T/ctl.json" -n 2>"$T/err" || rc=$?
[ $rc -eq 3 ] || fail "device with a newline: exit $rc, want 3"
grep -q '"device": expected printable characters, got control character 0x0a at byte 2' "$T/err" ||
	fail "device message: $(cat "$T/err")"

# production rules: no bus, then a bus without chips
sed 's|"device": "itest",|"device": "itest", "bus": "/dev/i2c-98",|' "$SENSORD_CONF" >"$T/nobus.json"
rc=0; "$BIN/sensord" -f "$T/nobus.json" -d 2>"$T/err" || rc=$?
[ $rc -eq 4 ] || fail "no bus: exit $rc, want 4"
grep -q 'PRODUCTION MODE FAILED: cannot open /dev/i2c-98: No such file or directory' \
	"$T/err" || fail "no-bus message: $(cat "$T/err")"
grep -q 'i2c' "$T/err" || fail "no hint in: $(cat "$T/err")"
printf '{}\n' >"$T/nochips.json"
rc=0; "$WITH_CHIPS" "$T/nochips.json" -- "$BIN/sensord" -f "$SENSORD_CONF" -d 2>"$T/err" || rc=$?
[ $rc -eq 4 ] || fail "no chips: exit $rc, want 4"
grep -q 'PRODUCTION MODE FAILED: ' "$T/err" || fail "no-chips message: $(cat "$T/err")"
[ ! -S "$SENSORD_SOCK" ] || fail "socket left behind by a failed start"

# --probe: the one-shot hardware test on the emulated chips (the SCD4x
# self-test takes 10 s of wall time, so that chip is left out here)
sed 's|"device": "itest",|"device": "itest", "scd4x": {"enabled": false},|' "$SENSORD_CONF" >"$T/probe.json"
"$WITH_CHIPS" "$CHIPS" -- "$BIN/sensord" -f "$T/probe.json" --probe >"$T/probe" 2>&1 ||
	fail "--probe: $(cat "$T/probe")"
[ "$(grep -c 'PASS' "$T/probe")" -eq 2 ] || fail "--probe table: $(cat "$T/probe")"
rc=0; "$WITH_CHIPS" "$T/nochips.json" -- "$BIN/sensord" -f "$SENSORD_CONF" --probe >"$T/probe" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "--probe without chips passed"

# a normal run, with a systemd notify socket listening
notify_socket "$T/notify.sock" "$T/notify.out" 30
NOTIFY_SOCKET=$T/notify.sock
export NOTIFY_SOCKET
start_sensord --interval 0.1
unset NOTIFY_SOCKET
"$BIN/sensortap" -s "$SENSORD_SOCK" --from oldest -n 5 >"$T/recs" || fail "sensortap"
python3 - "$T/recs" <<'PY' || fail "records"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5], rows
for r in rows:
    assert r["device"] == "itest"
    assert r["sys"]["mem"] is None or 0 < r["sys"]["mem"] <= 100
    assert r["sys"]["disk_free_mb"] is None or r["sys"]["disk_free_mb"] >= 0
ts = [r["t"] for r in rows]
gaps = [(b - a) / 1e6 for a, b in zip(ts, ts[1:])]
# ~100 ms apart on average (a loaded test machine may delay one turn)
assert all(g > 0 for g in gaps) and 60 < sum(gaps) / len(gaps) < 300, gaps
PY
"$BIN/sensortap" -s "$SENSORD_SOCK" --status >"$T/status" || fail "sensortap --status"
grep -q '"scd4x"' "$T/status" || fail "status has no chips: $(cat "$T/status")"
wait_sensord last_seq 8
grep -q '^sensord_journal_last_seq{device="itest"} [0-9]' "$SENSORD_METRICS" ||
	fail "metrics file: $(head -n 20 "$SENSORD_METRICS")"
grep -q 'READY=1' "$T/notify.out" || fail "no READY=1"
for _ in $(seq 30); do grep -q 'WATCHDOG=1' "$T/notify.out" && break; sleep 0.1; done
grep -q 'WATCHDOG=1' "$T/notify.out" || fail "no WATCHDOG=1"

# a second instance on the same socket is refused, the first one unharmed
rc=0; "$WITH_CHIPS" "$CHIPS" -- "$BIN/sensord" -f "$SENSORD_CONF" -d 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "second instance: exit $rc, want 1"
grep -q 'another sensord answers on' "$T/err" || fail "second instance: $(cat "$T/err")"
kill -HUP "$SENSORD_PID"
sleep 0.3
kill -0 "$SENSORD_PID" || fail "died on SIGHUP"
grep -q 'SIGHUP: nothing to reload' "$SENSORD_LOG" || fail "SIGHUP not handled"
id1=$(sensord_status journal_id)
stop_sensord
[ ! -e "$SENSORD_SOCK" ] || fail "socket not removed at exit"
"$BIN/sensord" -f "$SENSORD_CONF" --verify-journal >"$T/verify" || fail "journal not clean: $(cat "$T/verify")"
last=$(sed -n 's/^journal [0-9a-f]*: .*seq [0-9]*\.\.\([0-9]*\), clean$/\1/p' "$T/verify")
[ -n "$last" ] || fail "verify output: $(cat "$T/verify")"

# restart: same journal, seqs continue after the last one
start_sensord --interval 0.1
[ "$(sensord_status journal_id)" = "$id1" ] || fail "journal id changed across a restart"
"$BIN/sdclient" -s "$SENSORD_SOCK" follow "$last" 3 >"$T/follow" || fail "follow after restart"
grep -q "^ok records=3 first=$last last=$((last + 2))$" "$T/follow" || fail "$(cat "$T/follow")"
stop_sensord
echo "ok"
