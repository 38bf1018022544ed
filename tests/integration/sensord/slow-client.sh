#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A client that subscribes from the oldest record and never reads (its
# socket fills up) for ~10 s at a 20 ms interval: the record cadence stays
# the same, another client gets every record in order, and sensord's
# memory does not grow with the backlog.
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf '"journal": {"fsync": "never"},'

start_sensord --interval 0.02
wait_sensord last_seq 50
"$BIN/sdclient" -s "$SENSORD_SOCK" stuck oldest >"$T/stuck" 2>&1 &
stuck=$!
track $stuck "the stuck client"
"$BIN/sdclient" -s "$SENSORD_SOCK" follow now 450 >"$T/follow" 2>&1 &
follower=$!
track $follower "the following client"
sleep 2
rss0=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SENSORD_PID/status")
w0=$(sensord_status records_written)
t0=$(date +%s%N)
sleep 7
w1=$(sensord_status records_written)
t1=$(date +%s%N)
rss1=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SENSORD_PID/status")
expect=$(( (t1 - t0) / 20000000 ))
[ $((w1 - w0)) -ge $((expect * 7 / 10)) ] ||
	fail "cadence: $((w1 - w0)) records in $(( (t1 - t0) / 1000000 )) ms, expected about $expect"
if [ -z "$rss0" ] || [ -z "$rss1" ]; then fail "cannot read VmRSS of $SENSORD_PID"; fi
[ $((rss1 - rss0)) -lt 2048 ] || fail "memory grew from $rss0 kB to $rss1 kB"
wait_exit "$follower" "the other client" || fail "the other client: $(tail -n 2 "$T/follow")"
grep -q '^ok records=450 ' "$T/follow" || fail "$(tail -n 1 "$T/follow")"
kill -0 "$stuck" || fail "the stuck client was dropped"
[ "$(sensord_status clients)" -ge 2 ] || fail "the stuck client is no longer connected"
# the stuck client is served once it reads: start reading where it is
kill_pid "$stuck"
stop_sensord
echo "ok: $((w1 - w0)) records in $(( (t1 - t0) / 1000000 )) ms with a stuck client, RSS $rss0 -> $rss1 kB"
