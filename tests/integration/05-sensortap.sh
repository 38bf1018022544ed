#!/bin/sh
# sensortap against fake-sensord (the scripted sensord its tests and
# streamerd's share): JSON lines with DESIGN.md's keys and the values the
# server sent, gap notices on stderr, status, and a distinct exit code for
# each way the socket can fail.
set -eu
bin=$BUILD/bin
dir=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true	# each fake-sensord saves its state as it exits
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# serve PATH FIRST LAST [MODE]: start fake-sensord holding records
# FIRST..LAST (journal 0123456789abcdef) and wait until it listens
serve() {
	ready=$dir/ready.$(basename "$1")
	"$bin/fake-sensord" -f "$2" -n "$3" -m "$3" -j 0123456789abcdef ${4:+-x "$4"} \
		"$1" "$1.state" >"$ready" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 100); do grep -q ready "$ready" 2>/dev/null && return 0; sleep 0.05; done
	fail "fake-sensord did not start"
}

# 1. replay from oldest: 7 records, values derived from seq; 11..17 hold
# every kind of null (each chip block, a sys value) and faults
serve "$dir/s1" 11 17
"$bin/sensortap" -s "$dir/s1" --from oldest -n 7 >"$dir/out" 2>"$dir/err"
python3 - "$dir/out" "$TOP/tests/streamerd/check.py" <<'PY'
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
[ ! -s "$dir/err" ] || fail "unexpected stderr: $(cat "$dir/err")"

# 2. from a seq already dropped: gap on stderr, then records
serve "$dir/s2" 5 7
"$bin/sensortap" -s "$dir/s2" --from 2 -n 3 >"$dir/out" 2>"$dir/err"
grep -q "gap: records 2..4 are no longer in the journal" "$dir/err" || fail "no gap notice"
[ "$(wc -l <"$dir/out")" -eq 3 ] || fail "expected 3 records after the gap"

# 3. status
serve "$dir/s3" 1 9
"$bin/sensortap" -s "$dir/s3" --status >"$dir/out"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["last_seq"]==9 and s["journal_id"]=="0123456789abcdef" and s["chips"][0]["name"]=="scd4x", s' "$dir/out"

# 4. exit codes
rc=0; "$bin/sensortap" -s "$dir/none" 2>"$dir/err" || rc=$?
[ $rc -eq 3 ] || fail "missing socket: exit $rc"
grep -q "is sensord running" "$dir/err" || fail "missing-socket message"
"$bin/fake-sensord" -x stale "$dir/stale" "$dir/stale.state" || fail "stale socket not made"
rc=0; "$bin/sensortap" -s "$dir/stale" 2>"$dir/err" || rc=$?
[ $rc -eq 4 ] || fail "stale socket: exit $rc"
rc=0; "$bin/sensortap" --from yesterday 2>"$dir/err" || rc=$?
[ $rc -eq 2 ] || fail "usage: exit $rc"
grep -q 'expected a sequence number, "oldest" or "now", got "yesterday"' "$dir/err" || fail "usage message"
serve "$dir/s4" 1 1 garbage
rc=0; "$bin/sensortap" -s "$dir/s4" 2>"$dir/err" || rc=$?
[ $rc -eq 1 ] || fail "garbage: exit $rc"
grep -q "malformed message from sensord" "$dir/err" || fail "garbage message"
serve "$dir/s6" 1 1 silent
rc=0; "$bin/sensortap" -s "$dir/s6" 2>"$dir/err" || rc=$?
[ $rc -eq 6 ] || fail "silent server: exit $rc"
grep -q "sensord did not answer within 5000 ms" "$dir/err" || fail "timeout message"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	serve "$dir/s5" 1 1
	chmod 0700 "$dir"
	rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/sensortap" -s "$dir/s5" 2>"$dir/err.denied" || rc=$?
	chmod 0755 "$dir"
	[ $rc -eq 5 ] || fail "permission denied: exit $rc ($(cat "$dir/err.denied"))"
fi
echo "sensortap: all checks passed"
