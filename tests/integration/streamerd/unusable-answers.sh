#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 13, item 10: a 200 whose body cannot be used (not JSON, or JSON
# without what was asked) is a failure like any other: streamerd backs off,
# logging the first of the streak once, and goes on when answers are good.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100
streamerd_conf jwt '"channel_name": "garbled"'
start_fake_sensord -n 20 -r 10 -m 300
start_streamerd
wait_acked 20 20

# status_requests: bulk-status requests answered so far
status_requests() {
	AUTH='' req GET /_emu/stats
	printf '%s' "$BODY" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["requests"]["status"].values()))'
}

for answer in '"this is not JSON {"' '{}'; do
	fault "{\"kind\":\"status\",\"route\":\"status\",\"status\":200,\"count\":-1,\"body\":$answer}"
	sleep 1
	before=$(status_requests)
	sleep 6
	n=$(($(status_requests) - before))
	# a poll every 200 ms would be 30; a back-off that grows, a handful
	[ "$n" -le 12 ] || fail "$n status requests in 6 s answered with $answer: no back-off"
	fault '{"kind":"clear"}'
	wait_acked "$(journaled)" 30
	echo "answer $answer: $n requests in 6 s"
done
w=$(grep -c "unusable answer" "$STREAMERD_LOG")
[ "$w" -le 4 ] || fail "$w log lines about unusable answers"
wait_acked 300 60
stop_streamerd
stop_fake_sensord
check_table 300
echo "ok: unusable 200s back off and are logged once per streak"
