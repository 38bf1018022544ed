#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Rows the table rejects (here: a NOT NULL CO2 column, and every third
# record has no SCD4x block so its co2 is null) are skipped by the service
# under ON_ERROR=CONTINUE: streamerd logs the delta of rows_error_count with
# the last error message, counts them in its metrics, and still acks the
# whole journal (the committed token moves past rejected rows).
set -u
. "$TOP/tests/lib/harness.sh"

emu_world "$T/strict.json" 's/"CO2 FLOAT"/"CO2 FLOAT NOT NULL"/'
EMU_WORLD=$T/strict.json start_emu --commit-lag-ms 100
streamerd_conf pat
start_fake_sensord -n 90
start_streamerd
wait_acked 90 20
stop_streamerd
stop_fake_sensord
rejected=30	# seqs 3, 6, ..., 90
n=$(sqlite3 "$EMU_DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA")
[ "$n" -eq $((90 - rejected)) ] || fail "$n rows in the table, expected $((90 - rejected))"
bad=$(sqlite3 "$EMU_DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE CAST(substr(ROWID, 18) AS INTEGER) % 3 = 0")
[ "$bad" -eq 0 ] || fail "$bad rows without co2 landed"
grep -q "row(s) rejected by the table; last error: ." "$STREAMERD_LOG" || fail "rejections not logged"
logged=$(sed -n 's/.*: \([0-9]*\) row(s) rejected by the table.*/\1/p' "$STREAMERD_LOG" | awk '{ s += $1 } END { print s + 0 }')
[ "$logged" -eq $rejected ] || fail "logged $logged rejected rows, expected $rejected"
grep -q "^streamerd_error_rows_total{[^}]*} $rejected$" "$STREAMERD_METRICS" || fail "metrics: $(grep error_rows "$STREAMERD_METRICS")"
echo "ok: $rejected rejected rows logged and counted, the journal fully acked"
