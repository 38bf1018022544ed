#!/bin/sh
# sensortap against a scripted server: JSON lines with DESIGN.md's keys and
# the values the server sent, gap notices on stderr, status, and a distinct
# exit code for each way the socket can fail.
set -eu
bin=$BUILD/bin
dir=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# serve PATH FIRST LAST [MODE]: start tapserver and wait until it listens
serve() {
	ready=$dir/ready.$(basename "$1")
	"$bin/tapserver" "$@" >"$ready" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 100); do grep -q ready "$ready" 2>/dev/null && return 0; sleep 0.05; done
	fail "tapserver did not start"
}

# 1. replay from oldest: 6 records, values derived from seq
serve "$dir/s1" 5 10
"$bin/sensortap" -s "$dir/s1" --from oldest -n 6 >"$dir/out" 2>"$dir/err"
python3 - "$dir/out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["seq"] for r in rows] == list(range(5, 11)), rows
keys = ["seq", "t", "boot_ns", "synced", "device", "scd4x", "sgp30", "icp10125", "sys", "faults"]
def has(obj, want):  # want's keys with its values; fields added to the record may follow
    return {k: obj.get(k, "absent") for k in want} == want
for r in rows:
    assert [k for k in r if k in keys] == keys, list(r.keys())
    s = r["seq"]
    assert r["t"] == 1764000000000000000 + s * 5000000000
    assert r["synced"] == (s % 2 == 0)
    if s % 3 == 0:
        assert r["scd4x"] is None, r
    else:
        assert has(r["scd4x"], {"co2": 400 + s, "t": 20.5, "rh": 40.25, "t_meas": r["t"]}), r
    assert r["sgp30"]["warmup"] is True and r["sgp30"]["baseline_ok"] is False
    assert r["icp10125"]["p"] == 100000.0 + s and r["icp10125"]["t"] == -1.5
    assert has(r["sys"], {"cpu_t": None, "cpu": 12.5, "mem": 33.0, "disk_free_mb": 2048}), r["sys"]
    assert r["faults"] == (["scd4x: crc error on read_measurement"] if s % 4 == 0 else [])
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
"$bin/tapserver" "$dir/stale" 1 1 stale
rc=0; "$bin/sensortap" -s "$dir/stale" 2>"$dir/err" || rc=$?
[ $rc -eq 4 ] || fail "stale socket: exit $rc"
rc=0; "$bin/sensortap" --from yesterday 2>"$dir/err" || rc=$?
[ $rc -eq 2 ] || fail "usage: exit $rc"
grep -q 'expected a sequence number, "oldest" or "now", got "yesterday"' "$dir/err" || fail "usage message"
serve "$dir/s4" 1 1 garbage
rc=0; "$bin/sensortap" -s "$dir/s4" 2>"$dir/err" || rc=$?
[ $rc -eq 1 ] || fail "garbage: exit $rc"
grep -q "malformed message from sensord" "$dir/err" || fail "garbage message"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	serve "$dir/s5" 1 1
	chmod 0700 "$dir"
	rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/sensortap" -s "$dir/s5" 2>"$dir/err.denied" || rc=$?
	chmod 0755 "$dir"
	[ $rc -eq 5 ] || fail "permission denied: exit $rc ($(cat "$dir/err.denied"))"
fi
echo "sensortap: all checks passed"
