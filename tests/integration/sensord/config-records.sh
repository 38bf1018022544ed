#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The keys that shape each record, seen in the records sensortap prints:
#   interval_ms  250 (no --interval on the command line): records 250 ms
#                apart (the default is 5 s)
#   disk_path    /dev/shm: "disk_free_mb" is that file system's free space,
#                not the root file system's
# (device: basics.sh; bus: basics.sh, refused at an absent bus.)
set -eu
. "$TOP/tests/lib/harness.sh"
need_cmd python3

sensord_conf '"interval_ms": 250, "disk_path": "/dev/shm", "journal": {"fsync": "never"},'
start_sensord
timeout 20 "$BIN/sensortap" -s "$SENSORD_SOCK" --from now -n 8 >"$T/recs" ||
	fail "sensortap: fewer than 8 records in 20 s"
python3 - "$T/recs" <<'PY' || fail "interval_ms 250"
import json, sys
ts = [json.loads(l)["t"] for l in open(sys.argv[1])]
gaps = [(b - a) / 1e6 for a, b in zip(ts, ts[1:])]
mean = sum(gaps) / len(gaps)
print("interval_ms 250: records %.0f ms apart on average" % mean)
# a loaded machine may delay a turn; the schedule does not drift
assert 200 < mean < 350, gaps
PY
stop_sensord

[ -d /dev/shm ] || skip "no /dev/shm to point disk_path at (interval_ms checked)"
python3 - "$T/recs" <<'PY' || fail "disk_path /dev/shm"
import json, os, sys
def free_mb(path):
    v = os.statvfs(path)
    return v.f_bavail * v.f_frsize // (1024 * 1024)
shm, root = free_mb("/dev/shm"), free_mb("/")
got = [json.loads(l)["sys"]["disk_free_mb"] for l in open(sys.argv[1])]
print("disk_path /dev/shm: disk_free_mb %s; /dev/shm %d MB free, / %d MB free" % (got, shm, root))
tol = max(16, shm // 100)
assert all(g is not None and abs(g - shm) <= tol for g in got), "not /dev/shm's free space"
if abs(shm - root) <= 4 * tol:
    print("(the two file systems have about the same free space: not told apart)")
PY
echo "ok: interval_ms and disk_path"
