#!/bin/sh
# Exactly once across SIGKILL: streamerd is killed at random instants while
# sensord keeps journaling (and while batches are in flight, appended but
# uncommitted, or committed but not yet acked) and restarted each time; at
# the end every journaled seq is in the table exactly once, in order.
. "$TOP/tests/streamerd/lib.sh"

KILLS=${KILLS:-20}
emu_start --commit-lag-ms 300
sd_conf jwt "\"batch_max_rows\": 20"
fs_start -n 300 -r 100 -m 1500
k=0
while [ $k -lt $KILLS ]; do
	sd_start
	# 0.15 .. 1.5 s: covers start-up, open, appends in flight, commit polling
	sleep "$(python3 -c "import random; print(round(random.uniform(0.15, 1.5), 2))")"
	sd_kill9
	k=$((k + 1))
done
sd_start
wait_acked 1500 60
sd_stop
fs_stop
check_table 1500
grep -q "last committed offset token $JID-" "$T/sd.log" || sd_fail "never resumed from a committed token"
echo "ok: $KILLS SIGKILLs, 1500 records exactly once"
