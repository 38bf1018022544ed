#!/bin/sh
# sensord's command line, exit codes and production rules (no bus, no
# chips), then a normal run on emulated chips: records over the socket,
# status, metrics file, systemd readiness/watchdog, a second instance
# refused, SIGHUP, a clean SIGTERM (socket removed, journal clean) and a
# restart that continues the same journal's seqs.
. "$TOP/tests/integration/sensord-common.inc"
write_conf '"journal": {"fsync": "interval", "fsync_interval_ms": 200},'

"$bin/sensord" --version | grep -q '^sensord ' || fail "--version"
"$bin/sensord" --help | grep -q 'verify-journal' || fail "--help"
rc=0; "$bin/sensord" --bogus 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc, want 2"
rc=0; "$bin/sensord" -f "$conf" --interval 0 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "--interval 0: exit $rc, want 2"
[ "$("$bin/sensord" -f "$conf" -n)" = "configuration OK" ] || fail "-n"
printf '{"interval_ms": "fast"}' >"$dir/bad.json"
rc=0; "$bin/sensord" -f "$dir/bad.json" -n 2>"$dir/err" || rc=$?
[ $rc -eq 3 ] || fail "bad config: exit $rc, want 3"
grep -q '"interval_ms": expected integer' "$dir/err" || fail "config message: $(cat "$dir/err")"
rc=0; "$bin/sensord" -f "$dir/missing.json" -n 2>/dev/null || rc=$?
[ $rc -eq 3 ] || fail "missing config: exit $rc, want 3"

# production rules: no bus, then a bus without chips
sed 's|"device": "itest",|"device": "itest", "bus": "/dev/i2c-98",|' "$conf" >"$dir/nobus.json"
rc=0; "$bin/sensord" -f "$dir/nobus.json" -d 2>"$dir/err" || rc=$?
[ $rc -eq 4 ] || fail "no bus: exit $rc, want 4"
grep -q 'PRODUCTION MODE FAILED: cannot open /dev/i2c-98: No such file or directory' \
	"$dir/err" || fail "no-bus message: $(cat "$dir/err")"
grep -q 'i2c' "$dir/err" || fail "no hint in: $(cat "$dir/err")"
printf '{}\n' >"$dir/nochips.json"
rc=0; "$with_chips" "$dir/nochips.json" -- "$bin/sensord" -f "$conf" -d 2>"$dir/err" || rc=$?
[ $rc -eq 4 ] || fail "no chips: exit $rc, want 4"
grep -q 'PRODUCTION MODE FAILED: ' "$dir/err" || fail "no-chips message: $(cat "$dir/err")"
[ ! -S "$sock" ] || fail "socket left behind by a failed start"

# --probe: the one-shot hardware test on the emulated chips (the SCD4x
# self-test takes 10 s of wall time, so that chip is left out here)
sed 's|"device": "itest",|"device": "itest", "scd4x": {"enabled": false},|' "$conf" >"$dir/probe.json"
"$with_chips" "$dir/chips.json" -- "$bin/sensord" -f "$dir/probe.json" --probe >"$dir/probe" 2>&1 ||
	fail "--probe: $(cat "$dir/probe")"
[ "$(grep -c 'PASS' "$dir/probe")" -eq 2 ] || fail "--probe table: $(cat "$dir/probe")"
rc=0; "$with_chips" "$dir/nochips.json" -- "$bin/sensord" -f "$conf" --probe >"$dir/probe" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "--probe without chips passed"

# a normal run, with a systemd notify socket listening
python3 - "$dir/notify.sock" "$dir/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a") as out:
    try:
        while True:
            out.write(s.recv(4096).decode() + "\n")
            out.flush()
    except socket.timeout:
        pass
PY
pids="$pids $!"
for _ in $(seq 50); do [ -S "$dir/notify.sock" ] && break; sleep 0.05; done
NOTIFY_SOCKET=$dir/notify.sock
export NOTIFY_SOCKET
start_sensord --interval 0.1
unset NOTIFY_SOCKET
"$bin/sensortap" -s "$sock" --from oldest -n 5 >"$dir/recs" || fail "sensortap"
python3 - "$dir/recs" <<'PY' || fail "records"
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
"$bin/sensortap" -s "$sock" --status >"$dir/status" || fail "sensortap --status"
grep -q '"scd4x"' "$dir/status" || fail "status has no chips: $(cat "$dir/status")"
wait_for last_seq 8
grep -q '^sensord_journal_last_seq{device="itest"} [0-9]' "$dir/run/sensord.prom" ||
	fail "metrics file: $(head -n 20 "$dir/run/sensord.prom")"
grep -q 'READY=1' "$dir/notify.out" || fail "no READY=1"
for _ in $(seq 30); do grep -q 'WATCHDOG=1' "$dir/notify.out" && break; sleep 0.1; done
grep -q 'WATCHDOG=1' "$dir/notify.out" || fail "no WATCHDOG=1"

# a second instance on the same socket is refused, the first one unharmed
rc=0; "$with_chips" "$dir/chips.json" -- "$bin/sensord" -f "$conf" -d 2>"$dir/err" || rc=$?
[ $rc -eq 1 ] || fail "second instance: exit $rc, want 1"
grep -q 'another sensord answers on' "$dir/err" || fail "second instance: $(cat "$dir/err")"
kill -HUP "$pid"
sleep 0.3
kill -0 "$pid" || fail "died on SIGHUP"
grep -q 'logs reopened' "$dir/log" || fail "SIGHUP not handled"
id1=$(field journal_id)
stop_sensord
[ $rc -eq 0 ] || fail "SIGTERM: exit $rc"
[ ! -e "$sock" ] || fail "socket not removed at exit"
"$bin/sensord" -f "$conf" --verify-journal >"$dir/verify" || fail "journal not clean: $(cat "$dir/verify")"
last=$(sed -n 's/^journal [0-9a-f]*: .*seq [0-9]*\.\.\([0-9]*\), clean$/\1/p' "$dir/verify")
[ -n "$last" ] || fail "verify output: $(cat "$dir/verify")"

# restart: same journal, seqs continue after the last one
start_sensord --interval 0.1
[ "$(field journal_id)" = "$id1" ] || fail "journal id changed across a restart"
"$bin/sdclient" -s "$sock" follow "$last" 3 >"$dir/follow" || fail "follow after restart"
grep -q "^ok records=3 first=$last last=$((last + 2))$" "$dir/follow" || fail "$(cat "$dir/follow")"
stop_sensord
[ $rc -eq 0 ] || fail "second SIGTERM: exit $rc"
echo "ok"
