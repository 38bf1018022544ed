#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 13, item 6: a service that reports a committed token past what this
# streamerd appended (a lying or confused server) must not make it ack seqs
# it never sent: sensord is acked the last seq appended, not the token.
# (The channel name is upper case, as the service stores it, so that any
# client finds its entry in the lying answer.)
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100
streamerd_conf jwt '"channel_name": "LIAR"'
start_fake_sensord -n 100
tok=$(printf '%s-%020d' "$JOURNAL_ID" 105)
lie="{\"channel_statuses\":{\"LIAR\":{\"channel_status_code\":\"SUCCESS\",\"last_committed_offset_token\":\"$tok\",\"database_name\":\"DEMO_DB\",\"schema_name\":\"DEMO_SCHEMA\",\"pipe_name\":\"THERMAL_SENSOR_PIPE\",\"channel_name\":\"LIAR\",\"rows_inserted\":105,\"rows_error_count\":0}}}"
fault "{\"kind\":\"status\",\"route\":\"status\",\"status\":200,\"count\":5,\"body\":$lie}"
start_streamerd
# (a streamerd that acks 105 makes fake-sensord exit: an ack beyond its
# last seq)
wait_acked 100 30
grep -q "fault: status on status" "$EMU_LOG" || fail "the lie was never told"
sleep 1
grep -q "beyond last seq" "$FAKE_SENSORD_LOG" && fail "sensord was acked a seq it never journaled"
alive "$FAKE_SENSORD_PID" || fail "fake-sensord exited: $(tail -n 2 "$FAKE_SENSORD_LOG")"
[ "$(acked)" -eq 100 ] || fail "acked $(acked), only 1..100 were appended"
grep -q "past seq 100, the last this streamerd appended" "$STREAMERD_LOG" ||
	fail "the token past what was appended was not reported"
stop_streamerd
stop_fake_sensord
check_table 100
echo "ok: a committed token past the last append acked only up to it"
