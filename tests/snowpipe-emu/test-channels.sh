#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu channels: replay answered idempotently, row/client sequencer
# errors, stale tokens after reopen, fail_on_uncommitted_rows, commit lag and
# status fields, type-conversion error rows (counted, never stored), and
# committed state surviving SIGKILL + restart on the same database.
# The lenient emulator (--no-strict), as these paths were written for it;
# test-strict.sh shows each strict behaviour next to its lenient one.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --no-strict --commit-lag-ms 1500
scoped_token
open_channel c1

# first append, then its exact replay: same next token, rows stored once
row 1 > "$T/a"; row 2 >> "$T/a"
append c1 0_1 t2 "$T/a"
expect_status 200 append
expect_eq "$(json_field next_continuation_token)" 0_2 "token after append"
append c1 0_1 t2 "$T/a"
expect_status 200 "replay"
expect_eq "$(json_field next_continuation_token)" 0_2 "token after replay"
AUTH='' req GET /_emu/stats
expect_body '"appends_replayed":1' stats

# same token, different body or offsets: not a replay
row 3 > "$T/b"
append c1 0_1 t2 "$T/b"
expect_status 400 "reused token, other body"
expect_body ERR_CHANNEL_HAS_INVALID_ROW_SEQUENCER "reused token"
append c1 0_1 t9 "$T/a"
expect_status 400 "reused token, other end offset"
append c1 0_7 t3 "$T/b"
expect_status 400 "row sequencer ahead"
expect_body ERR_CHANNEL_MUST_BE_REOPENED_DUE_TO_ROW_SEQ_GAP "gap"
append c1 5_2 t3 "$T/b"
expect_status 400 "client sequencer ahead"
expect_body ERR_CHANNEL_HAS_INVALID_CLIENT_SEQUENCER "client ahead"
append c1 garbage t3 "$T/b"
expect_status 400 "garbage token"
expect_body ERR_CHANNEL_HAS_INVALID_CLIENT_SEQUENCER "garbage token"
AUTH=$SCOPED req POST "/v2/streaming/data/$PIPE_PATH/channels/c1/rows?endOffsetToken=t3" --data-binary "@$T/b"
expect_status 400 "missing continuationToken"

# commit lag: not committed before ~1.5 s, committed after; status fields
channel_status c1
expect_body '"last_committed_offset_token":null' "status inside the lag"
sleep 0.5
channel_status c1
expect_body '"last_committed_offset_token":null' "status inside the lag (0.5 s)"
wait_committed c1 t2
expect_body '"rows_inserted":2' "rows_inserted"
lat=$(json_field snowflake_avg_processing_latency_ms)
[ "$lat" -ge 1400 ] || fail "latency $lat ms < commit lag"
expect_eq "$(sql "select count(*) from THERMAL_SENSOR_DATA where CHANNEL='c1'")" 2 "rows after replay"

# conversion errors: counted, reported, never stored
fault '{"kind":"commit_lag","ms":0}'
{
	row 10
	row 11 '"temperature":"abc"'
	row 12 '"cputempf":1e40'
	row 13 '"uuid":"0123456789012345678901234567890123456"'
	row 14 '"datetimestamp":"2026-13-01T00:00:00"'
	echo '{"uuid":"broken",'
	echo '[1,2,3]'
	row 15 '"cputempf":"42"'
	row 16 '"cputempf":41.6' '"temperature":"22.5"' '"datetimestamp":"2026-02-03 04:05:06.789+02:00"'
	row 17 '"diskusage":12345'
} > "$T/mixed"
append c1 0_2 t-mixed "$T/mixed"
expect_status 200 "append with bad rows (200: rows are checked at commit)"
wait_committed c1 t-mixed
expect_body '"rows_inserted":6' "good rows counted"
expect_body '"rows_parsed":12' "parsed rows"
expect_body '"rows_error_count":6' "error rows counted"
expect_body '"last_error_offset_upper_bound":"t-mixed"' "error bound"
ts=$(json_field last_error_timestamp)
case $ts in ''|null|*[!0-9]*) fail "last_error_timestamp not a number: $ts" ;; esac
msg=$(json_field last_error_message)
case $msg in "" | null) fail "no last_error_message" ;; esac
expect_eq "$(sql "select count(*) from THERMAL_SENSOR_DATA where OFFSET_TOKEN='t-mixed'")" 4 "stored good rows"
expect_eq "$(sql "select group_concat(UUID) from THERMAL_SENSOR_DATA where OFFSET_TOKEN='t-mixed' order by rowid")" \
	"u-10,u-15,u-16,u-17" "which rows landed"
expect_eq "$(sql "select CPUTEMPF, TEMPERATURE, DATETIMESTAMP from THERMAL_SENSOR_DATA where UUID='u-16'")" \
	"42|22.5|2026-02-03 04:05:06.789" "converted values"
expect_eq "$(sql "select DISKUSAGE from THERMAL_SENSOR_DATA where UUID='u-17'")" 12345 "number into VARCHAR"

# reopen with fail_on_uncommitted_rows while a batch is pending
fault '{"kind":"stall_commits"}'
row 20 > "$T/p"
append c1 0_3 t-pending "$T/p"
expect_status 200 "append while stalled"
AUTH=$SCOPED req PUT "/v2/streaming/$PIPE_PATH/channels/c1" --data '{"fail_on_uncommitted_rows":true}'
expect_status 409 "reopen with pending data"
expect_body ERR_CHANNEL_HAS_UNCOMMITTED_DATA "reopen with pending data"
AUTH=$SCOPED req DELETE "/v2/streaming/$PIPE_PATH/channels/c1" --data '{"fail_on_uncommitted_rows":true}'
expect_status 409 "drop with pending data"
open_channel c1 '{"fail_on_uncommitted_rows":false}'
expect_eq "$CT" 1_4 "token after reopen"
expect_body '"last_committed_offset_token":"t-mixed"' "reopen returns the committed token"
append c1 0_4 t-old "$T/p"
expect_status 400 "old token after reopen"
expect_body STALE_CONTINUATION_TOKEN_SEQUENCER "old token after reopen"
expect_body "Please reopen the channel" "stale message"
fault '{"kind":"resume_commits"}'
AUTH='' req POST /_emu/commit
channel_status c1
expect_body '"last_committed_offset_token":"t-mixed"' "discarded batch never commits"
expect_eq "$(sql "select count(*) from THERMAL_SENSOR_DATA where OFFSET_TOKEN='t-pending'")" 0 "discarded rows"

# SIGKILL with one batch committed and one pending, restart on the same DB
row 30 > "$T/k1"
append c1 1_4 t-k1 "$T/k1"
expect_status 200 "append before kill"
AUTH='' req POST /_emu/commit
fault '{"kind":"stall_commits"}'
row 31 > "$T/k2"
append c1 1_5 t-k2 "$T/k2"
expect_status 200 "append lost in the kill"
kill_emu
start_emu --no-strict --commit-lag-ms 0
scoped_token
channel_status c1
expect_body '"last_committed_offset_token":"t-k1"' "committed token survives SIGKILL"
expect_body '"rows_inserted":7' "counters survive"
expect_eq "$(sql "select count(*) from THERMAL_SENSOR_DATA where OFFSET_TOKEN in ('t-k1','t-k2')")" 1 "rows after restart"
row 32 > "$T/k3"
append c1 1_6 t-k3 "$T/k3"
expect_status 400 "token for the lost batch"
expect_body ERR_CHANNEL_MUST_BE_REOPENED_DUE_TO_ROW_SEQ_GAP "lost batch"
open_channel c1
expect_eq "$CT" 2_5 "reopen after restart bumps the client sequencer"
append c1 "$CT" t-k3 "$T/k3"
expect_status 200 "append after reopen"
wait_committed c1 t-k3
stop_emu
echo ok
