#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sensortap against fake-sensord (the scripted sensord its tests and
# streamerd's share): JSON lines with docs/schema.md's keys and the values the
# server sent, gap notices on stderr, status, and a distinct exit code for
# each way the socket can fail.
set -eu
. "$TOP/tests/lib/harness.sh"
need_cmd python3
need_built "$BIN/fake-sensord" "$BIN/sensortap"

# serve PATH FIRST LAST [MODE]: start fake-sensord holding records
# FIRST..LAST (journal 0123456789abcdef) and wait until it listens
serve() {
	ready=$T/ready.$(basename "$1")
	"$BIN/fake-sensord" -f "$2" -n "$3" -m "$3" -j 0123456789abcdef ${4:+-x "$4"} \
		"$1" "$1.state" >"$ready" 2>&1 &
	track $! fake-sensord
	wait_for 5 "fake-sensord to listen on $1" grep -q ready "$ready"
}

# 1. replay from oldest: 7 records, values derived from seq; 11..17 hold
# every kind of null (each chip block, a sys value) and faults
serve "$T/s1" 11 17
"$BIN/sensortap" -s "$T/s1" --from oldest -n 7 >"$T/out" 2>"$T/err"
python3 - "$T/out" "$TOP/tests/lib/check-table.py" <<'PY'
import importlib.util, json, math, sys
spec = importlib.util.spec_from_file_location("check", sys.argv[2])
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)
record = check.record
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["seq"] for r in rows] == list(range(11, 18)), rows
keys = ["seq", "t", "boot_ns", "synced", "device", "scd4x", "sgp30", "icp10125", "sys", "faults"]
def same(a, b):  # b's keys with its values; fields added to the record may follow
    if isinstance(b, dict):
        return (isinstance(a, dict) and [k for k in a if k in b] == list(b) and
                all(same(a[k], b[k]) for k in b))
    if isinstance(b, float):
        return isinstance(a, (int, float)) and math.isclose(a, b, rel_tol=1e-12)
    return a == b and type(a) is type(b)
for r in rows:
    assert [k for k in r if k in keys] == keys, list(r.keys())
    want = record(r["seq"])
    for k in keys:
        assert same(r[k], want[k]), (r["seq"], k, r[k], want[k])
nulls = {k for r in rows for k in ("scd4x", "sgp30", "icp10125") if r[k] is None}
nulls |= {k for r in rows for k in r["sys"] if r["sys"][k] is None}
assert nulls >= {"scd4x", "sgp30", "icp10125", "cpu_t", "disk_free_mb"}, nulls
assert any(r["faults"] for r in rows) and not all(r["synced"] for r in rows)
PY
[ ! -s "$T/err" ] || fail "unexpected stderr: $(cat "$T/err")"

# 2. from a seq already dropped: gap on stderr, then records
serve "$T/s2" 5 7
"$BIN/sensortap" -s "$T/s2" --from 2 -n 3 >"$T/out" 2>"$T/err"
grep -q "gap: records 2..4 are no longer in the journal" "$T/err" || fail "no gap notice"
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "expected 3 records after the gap"

# 3. status
serve "$T/s3" 1 9
"$BIN/sensortap" -s "$T/s3" --status >"$T/out"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["last_seq"]==9 and s["journal_id"]=="0123456789abcdef" and s["chips"][0]["name"]=="scd4x", s' "$T/out"

# 4. exit codes
rc=0; "$BIN/sensortap" -s "$T/none" 2>"$T/err" || rc=$?
[ $rc -eq 3 ] || fail "missing socket: exit $rc"
grep -q "is sensord running" "$T/err" || fail "missing-socket message"
"$BIN/fake-sensord" -x stale "$T/stale" "$T/stale.state" || fail "stale socket not made"
rc=0; "$BIN/sensortap" -s "$T/stale" 2>"$T/err" || rc=$?
[ $rc -eq 4 ] || fail "stale socket: exit $rc"
rc=0; "$BIN/sensortap" --from yesterday 2>"$T/err" || rc=$?
[ $rc -eq 2 ] || fail "usage: exit $rc"
grep -q 'expected a sequence number, "oldest" or "now", got "yesterday"' "$T/err" || fail "usage message"
serve "$T/s4" 1 1 garbage
rc=0; "$BIN/sensortap" -s "$T/s4" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "garbage: exit $rc"
grep -q "malformed message from sensord" "$T/err" || fail "garbage message"
serve "$T/s6" 1 1 silent
rc=0; "$BIN/sensortap" -s "$T/s6" 2>"$T/err" || rc=$?
[ $rc -eq 6 ] || fail "silent server: exit $rc"
grep -q "sensord did not answer within 5000 ms" "$T/err" || fail "timeout message"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	serve "$T/s5" 1 1
	chmod 0700 "$T"
	rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/sensortap" -s "$T/s5" 2>"$T/err.denied" || rc=$?
	chmod 0755 "$T"
	[ $rc -eq 5 ] || fail "permission denied: exit $rc ($(cat "$T/err.denied"))"
fi
echo "sensortap: all checks passed"
