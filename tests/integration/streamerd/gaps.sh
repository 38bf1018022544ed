#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sensord's gap messages (seqs its journal does not hold: dropped by
# retention, or skipped after a power cut) reach streamerd in the middle of
# a replay from the oldest record and at the very start of a subscription
# from the committed seq. Each time streamerd counts the range in
# records_missing, logs it, commits every other record exactly once with
# its values, and acks on past the gap.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 200
streamerd_conf jwt '"channel_name": "gaps"'

# 1. no committed token: a replay of 1..60 with 21..30 missing
start_fake_sensord -n 60 -g 21-30
start_streamerd
wait_acked 60 30
stop_streamerd
stop_fake_sensord
grep -q "gap 21\.\.30 after 20 records of the subscription" "$FAKE_SENSORD_LOG" ||
	fail "the gap was not sent in the middle of the replay: $(grep gap "$FAKE_SENSORD_LOG")"
check_table 60 --missing 21-30 --values
grep -q "^streamerd_records_missing_total{[^}]*} 10$" "$STREAMERD_METRICS" ||
	fail "metrics: $(grep records_missing "$STREAMERD_METRICS")"
grep -q "sensord: seqs 21\.\.30 " "$STREAMERD_LOG" || fail "the gap was not logged"

# 2. committed up to 60; sensord's journal now goes on at 76: the new
# subscription (from 61) starts with the gap
start_fake_sensord -n 90 -g 61-75
start_streamerd
wait_acked 90 30
stop_streamerd
stop_fake_sensord
grep -q "gap 61\.\.75 after 0 records of the subscription" "$FAKE_SENSORD_LOG" ||
	fail "the gap did not open the subscription: $(grep gap "$FAKE_SENSORD_LOG")"
grep -q "subscribed to sensord from seq 61" "$STREAMERD_LOG" || fail "did not resume from 61"
check_table 90 --missing 21-30 --missing 61-75 --values
grep -q "^streamerd_records_missing_total{[^}]*} 15$" "$STREAMERD_METRICS" ||
	fail "metrics: $(grep records_missing "$STREAMERD_METRICS")"
[ "$(acked)" -eq 90 ] || fail "acked $(acked), journaled 90"
echo "ok: gaps in the middle of a replay and at the start of a subscription"
