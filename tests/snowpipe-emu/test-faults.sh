#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu faults: injected statuses (429 with and without Retry-After,
# 500, 503 bare string, 408, stale pipe cache), dropped connections before
# and after an accepted append, delayed answers, expired tokens, invalidated
# channels, stalled commits, channel filters and --faults at start.
# The lenient emulator (--no-strict), as these paths were written for it;
# test-strict.sh shows each strict behaviour next to its lenient one.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --no-strict --commit-lag-ms 0
scoped_token
open_channel f1
row 1 > "$T/r1"

# 429 with Retry-After, twice, then the same append goes through
fault '{"kind":"status","route":"append","count":2,"status":429,"retry_after":3}'
append f1 0_1 t1 "$T/r1"
expect_status 429 "injected 429"
grep -qi '^Retry-After: 3' "$HDRS" || fail "no Retry-After: 3"
append f1 0_1 t1 "$T/r1"
expect_status 429 "second injected 429"
append f1 0_1 t1 "$T/r1"
expect_status 200 "append after the 429s"
CT=$(json_field next_continuation_token)

# 429 without Retry-After
fault '{"kind":"status","route":"append","status":429}'
append f1 "$CT" t2 "$T/r1"
expect_status 429 "429 without Retry-After"
grep -qi '^Retry-After' "$HDRS" && fail "unexpected Retry-After"

# 503 with the bare-string body, 500 on status, 408 on open
fault '{"kind":"status","route":"append","status":503}'
append f1 "$CT" t2 "$T/r1"
expect_status 503 "injected 503"
expect_eq "$BODY" '"ERR_GENERAL_EXCEPTION_RETRY_REQUEST"' "bare-string body"
fault '{"kind":"status","route":"status","status":500,"body":{"code":"X_CUSTOM","message":"m"}}'
channel_status f1
expect_status 500 "injected 500 on status"
expect_body X_CUSTOM "custom body"
fault '{"kind":"status","route":"open","status":408}'
AUTH=$SCOPED req PUT "/v2/streaming/$PIPE_PATH/channels/f1" --data '{}'
expect_status 408 "injected 408"
fault '{"kind":"stale_pipe_cache"}'
append f1 "$CT" t2 "$T/r1"
expect_status 400 "stale pipe cache"
expect_body STALE_PIPE_CACHE "stale pipe cache"

# a rule for another channel does not fire here; percent 100 = every time
fault '{"kind":"status","route":"append","channel":"OTHER","status":500,"count":-1}'
fault '{"kind":"status","route":"hostname","status":503,"percent":100}'
append f1 "$CT" t2 "$T/r1"
expect_status 200 "rule for another channel"
CT=$(json_field next_continuation_token)
AUTH=$PAT req GET /v2/streaming/hostname
expect_status 503 "percent rule 1"
AUTH=$PAT req GET /v2/streaming/hostname
expect_status 503 "percent rule 2"
AUTH='' req GET /_emu/faults
expect_body '"route":"hostname"' "rules listed"
AUTH='' req DELETE /_emu/faults
expect_status 200 "clear faults"
AUTH=$PAT req GET /v2/streaming/hostname
expect_status 200 "after clearing"

# drop before the work: nothing accepted, the same token still works
fault '{"kind":"drop","route":"append"}'
row 3 > "$T/r3"
append f1 "$CT" t3 "$T/r3"
expect_status 000 "dropped connection"
append f1 "$CT" t3 "$T/r3"
expect_status 200 "same append after a drop"
CT3=$CT
CT=$(json_field next_continuation_token)

# accept, then drop the answer: the retry is a replay, rows land once
fault '{"kind":"drop_after_accept"}'
row 4 > "$T/r4"
append f1 "$CT" t4 "$T/r4"
expect_status 000 "answer lost after accept"
append f1 "$CT" t4 "$T/r4"
expect_status 200 "retry of the accepted append"
CT4=$(json_field next_continuation_token)
[ "$CT4" != "$CT" ] || fail "replay returned the old token"
wait_committed f1 t4
expect_eq "$(sql "select count(*) from THERMAL_SENSOR_DATA where UUID='u-4'")" 1 "rows of the dropped+retried append"
[ "$CT3" != "$CT" ] || fail "token did not advance"
CT=$CT4

# delay: the answer comes late, other requests are served meanwhile
fault '{"kind":"delay","route":"status","delay_ms":1500}'
start=$(date +%s%N)
channel_status f1 &
bg=$!
sleep 0.2
t0=$(date +%s%N)
AUTH=$PAT req GET /v2/streaming/hostname
t1=$(date +%s%N)
expect_status 200 "request during a delayed one"
[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] || fail "server blocked during a delay"
wait $bg
end=$(date +%s%N)
[ $(( (end - start) / 1000000 )) -ge 1400 ] || fail "delayed answer came after $(( (end - start) / 1000000 )) ms"

# expire all scoped tokens: 401, a new exchange works
fault '{"kind":"expire_tokens"}'
AUTH=$SCOPED req PUT "/v2/streaming/$PIPE_PATH/channels/f1" --data '{}'
expect_status 401 "expired by fault"
scoped_token
channel_status f1
expect_status 200 "fresh token"

# invalidate the channel: appends fail with the code until a reopen
fault '{"kind":"invalidate_channel","channel":"f1","code":"ERR_CHANNEL_MUST_BE_REOPENED"}'
row 5 > "$T/r5"
append f1 "$CT" t5 "$T/r5"
expect_status 400 "append to an invalidated channel"
expect_body ERR_CHANNEL_MUST_BE_REOPENED "invalidated code"
channel_status f1
expect_body '"channel_status_code":"ERR_CHANNEL_MUST_BE_REOPENED"' "status of an invalidated channel"
open_channel f1
expect_body '"channel_status_code":"SUCCESS"' "reopen heals"
append f1 "$CT" t5 "$T/r5"
expect_status 200 "append after reopen"
CT=$(json_field next_continuation_token)

# stall commits: nothing commits until resumed
fault '{"kind":"stall_commits"}'
row 6 > "$T/r6"
append f1 "$CT" t6 "$T/r6"
expect_status 200 "append while stalled"
sleep 0.5
channel_status f1
expect_body '"last_committed_offset_token":"t5"' "stalled"
fault '{"kind":"resume_commits"}'
wait_committed f1 t6

# bad fault documents
AUTH='' req POST /_emu/faults --data '{"kind":"nonsense"}'
expect_status 400 "unknown fault kind"
AUTH='' req POST /_emu/faults --data '{"kind":"status","status":99}'
expect_status 400 "bad status"
AUTH='' req POST /_emu/faults --data 'not json'
expect_status 400 "not JSON"

# --faults at start
stop_emu
printf '{"faults":[{"kind":"status","route":"hostname","status":503,"count":1}]}\n' > "$T/faults.json"
start_emu --no-strict --faults "$T/faults.json"
AUTH=$PAT req GET /v2/streaming/hostname
expect_status 503 "fault from --faults"
AUTH=$PAT req GET /v2/streaming/hostname
expect_status 200 "count used up"
AUTH='' req GET /_emu/stats
expect_body '"hostname":{"200":1,"503":1}' "stats by status"
stop_emu
echo ok
