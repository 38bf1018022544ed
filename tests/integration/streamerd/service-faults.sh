#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Exactly once under the service's failure modes, one after the other while
# records keep coming: 5xx/429/408 storms (with and without Retry-After),
# connections dropped before an answer and after an accepted append, a stale
# pipe cache, every scoped token expiring mid-stream, channel invalidation, a
# second writer opening the same channel, commits stalling then resuming.
# Key-pair auth, so that "every scoped token expiring" hits a scoped token
# (a PAT is used as it is on the ingest host).
# Each phase must end with everything journaled so far committed once.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 150
streamerd_conf jwt "\"channel_name\": \"faults\", \"batch_max_rows\": 25"
start_fake_sensord -n 50 -r 50
start_streamerd
wait_acked 50 20

# phase NAME: waits until what is journaled now is acked, then checks the table.
phase() {
	target=$(journaled)
	wait_acked "$target" 60
	python3 "$TOP/tests/lib/check-table.py" "$EMU_DB" "$target" "$JOURNAL_ID" --at-least >/dev/null 2>&1 ||
		{ python3 "$TOP/tests/lib/check-table.py" "$EMU_DB" "$target" "$JOURNAL_ID" --at-least; fail "after $1"; }
	echo "phase $1: ok up to seq $(acked)"
}

fault '{"kind":"status","route":"append","status":503,"count":3}'
fault '{"kind":"status","route":"status","status":500,"count":2}'
phase "5xx storm"
fault '{"kind":"status","route":"append","status":429,"count":2,"retry_after":1}'
fault '{"kind":"status","route":"append","status":429,"count":1}'
phase "429 storm"
fault '{"kind":"status","route":"any","status":408,"count":3}'
phase "408 storm"
fault '{"kind":"drop","route":"append","count":2}'
phase "dropped connections"
fault '{"kind":"drop_after_accept","count":3}'
phase "dropped after accept"
fault '{"kind":"stale_pipe_cache"}'
phase "stale pipe cache"
fault '{"kind":"expire_tokens"}'
phase "tokens expired"
fault '{"kind":"invalidate_channel","channel":"faults","code":"ERR_CHANNEL_MUST_BE_REOPENED"}'
phase "channel invalidated"
# a second writer opens the same channel: our continuation token goes stale
AUTH=$PAT req PUT "/v2/streaming/$PIPE_PATH/channels/faults" \
	-H 'Content-Type: application/json' -d '{}'
[ "$STATUS" = 200 ] || fail "second writer's open: $STATUS $BODY"
phase "second writer"
fault '{"kind":"stall_commits"}'
sleep 2
stalled=$(acked)
sleep 1
[ "$(acked)" -eq "$stalled" ] || fail "acks moved while commits were stalled"
fault '{"kind":"resume_commits"}'
phase "commit stall"
# sensord restarts and stops growing the journal: the rest drains
stop_fake_sensord
start_fake_sensord
wait_acked "$(journaled)" 30
stop_streamerd
stop_fake_sensord
check_table "$(journaled)" --values
grep -q "reopening and replaying" "$STREAMERD_LOG" || fail "never reopened"
grep -q "refreshing the token once" "$STREAMERD_LOG" || fail "expired tokens were not refreshed"
no_secrets "$STREAMERD_LOG"
echo "ok: all fault phases exactly once ($(journaled) records)"
