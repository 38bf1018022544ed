#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Exactly once across SIGKILL: streamerd is killed at random instants while
# sensord keeps journaling (and while batches are in flight, appended but
# uncommitted, or committed but not yet acked) and restarted each time; at
# the end every journaled seq is in the table exactly once, in order.
set -u
. "$TOP/tests/lib/harness.sh"

KILLS=${KILLS:-20}
start_emu --commit-lag-ms 300
streamerd_conf jwt "\"batch_max_rows\": 20"
start_fake_sensord -n 300 -r 100 -m 1500
k=0
while [ $k -lt "$KILLS" ]; do
	start_streamerd
	# 0.15 .. 1.5 s: covers start-up, open, appends in flight, commit polling
	sleep "$(python3 -c "import random; print(round(random.uniform(0.15, 1.5), 2))")"
	kill_streamerd
	k=$((k + 1))
done
start_streamerd
wait_acked 1500 60
stop_streamerd
stop_fake_sensord
check_table 1500
grep -q "last committed offset token $JOURNAL_ID-" "$STREAMERD_LOG" || fail "never resumed from a committed token"
echo "ok: $KILLS SIGKILLs, 1500 records exactly once"
