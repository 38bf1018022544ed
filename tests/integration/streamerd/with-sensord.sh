#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The whole pipeline with the real sensord on the emulated chips: streamerd
# is SIGKILLed at random instants, sensord is restarted cleanly and
# SIGKILLed, while the emulator commits; at the end every record sensord
# journaled is in the table exactly once, in order, sensord's acked seq is
# its last seq, and the rows carry the chips' values.
set -u
. "$TOP/tests/lib/harness.sh"
sensord_conf ''
printf '{"time_scale": 20, "scd4x": {"co2": 812, "t": 22.5, "rh": 41.0}, "sgp30": {"eco2": 450, "tvoc": 12}, "icp10125": {"p": 100734.5, "t": 21.3}}\n' >"$CHIPS"

start_emu --commit-lag-ms 200
streamerd_conf jwt '"batch_max_rows": 30'
start_sensord --interval 0.05
JOURNAL_ID=$(sensord_status journal_id)
[ -n "$JOURNAL_ID" ] || fail "no journal id from sensord"
for round in 1 2 3 4 5 6; do
	start_streamerd
	sleep "$(python3 -c "import random; print(round(random.uniform(0.3, 1.5), 2))")"
	case $round in
	2) stop_sensord; start_sensord --interval 0.05 ;;	# sensord restarts under streamerd
	4) kill_sensord; start_sensord --interval 0.05 ;;	# sensord crashes
	esac
	sleep 0.5
	kill_streamerd
done
start_streamerd
sleep 2
# freeze the journal: sensord restarted with a long interval
stop_sensord
start_sensord --interval 600
last=$(sensord_status last_seq)
all_acked() { [ "$(sensord_status acked_seq)" = "$last" ]; }
poll 30 all_acked || fail "sensord acked $(sensord_status acked_seq), last seq $last"
[ "$(sensord_status journal_id)" = "$JOURNAL_ID" ] || fail "journal id changed"
stop_streamerd
stop_sensord
check_table "$last" --device itest
bad=$(sqlite3 "$EMU_DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE HOSTNAME != 'itest' OR PRESSURE IS NOT NULL AND abs(PRESSURE - 100734.5) > 5")
[ "$bad" = 0 ] || fail "$bad rows with wrong device or pressure"
# records carry only fresh measurements (a loaded machine may delay a
# chip's first one), so ask only that chip values reach the table at all
have=$(sqlite3 "$EMU_DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE CO2 IS NOT NULL OR PRESSURE IS NOT NULL OR TOTALVOCPPB IS NOT NULL")
[ "$have" -gt 0 ] || fail "no row carries a chip value"
no_secrets "$STREAMERD_LOG"
echo "ok: real sensord, $last records exactly once through 6 streamerd kills and 2 sensord restarts"
