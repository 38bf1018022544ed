#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sensord's loop timers as a user sees them: records on a fixed grid, a
# stall (SIGSTOP) costs one logged overrun and no burst of catch-up
# records, and WATCHDOG=1 comes while records are journaled but never twice
# within a second.
set -eu
. "$TOP/tests/lib/harness.sh"
need_cmd python3
sensord_conf '"journal": {"fsync": "interval", "fsync_interval_ms": 300},'

notify_socket "$T/notify.sock" "$T/notify.out" 30
NOTIFY_SOCKET=$T/notify.sock
export NOTIFY_SOCKET
start_sensord --interval 0.2
unset NOTIFY_SOCKET
wait_sensord last_seq 8
kill -STOP "$SENSORD_PID"
sleep 1.5
kill -CONT "$SENSORD_PID"
wait_sensord last_seq 20
"$BIN/sensortap" -s "$SENSORD_SOCK" --from oldest -n 20 >"$T/recs" || fail "sensortap"
stop_sensord
[ "$(grep -c 'record interval overrun' "$SENSORD_LOG")" -eq 1 ] ||
	fail "want one overrun line: $(grep overrun "$SENSORD_LOG")"
grep -q 'record interval overrun (1 so far)' "$SENSORD_LOG" || fail "overrun count"
python3 - "$T/recs" "$T/notify.out" <<'PY' || fail "timing"
import json, sys
t = [json.loads(l)["t"] / 1e9 for l in open(sys.argv[1])]
gaps = [b - a for a, b in zip(t, t[1:])]
stall = max(range(len(gaps)), key=lambda i: gaps[i])
assert gaps[stall] > 1.2, ("no stall seen", gaps)
# no burst: after the stall one record at once, then the interval again
assert min(gaps) > 0.1, ("records too close", gaps)
# the k-th record after a start (sensord's, or the stall's) is k intervals
# later: lateness does not add up (a loaded machine may delay one turn)
for seg in (t[:stall + 1], t[stall + 1:]):
    for k, x in enumerate(seg):
        assert abs(x - seg[0] - 0.2 * k) < 0.15, ("off the grid", k, seg)
wd = [float(l.split()[0]) for l in open(sys.argv[2]) if l.split()[1] == "WATCHDOG=1"]
assert len(wd) >= 3, ("too few WATCHDOG=1", wd)
# sensord sends at most one a second; allow the receiver 20 ms of jitter
assert all(b - a > 0.98 for a, b in zip(wd, wd[1:])), ("WATCHDOG=1 too often", wd)
PY
echo "ok: grid kept, one overrun after a stall and no burst, WATCHDOG=1 at most 1/s"
