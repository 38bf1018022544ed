#!/bin/sh
# Rows the table rejects (here: a NOT NULL CO2 column, and every third
# record has no SCD4x block so its co2 is null) are skipped by the service
# under ON_ERROR=CONTINUE: streamerd logs the delta of rows_error_count with
# the last error message, counts them in its metrics, and still acks the
# whole journal (the committed token moves past rejected rows).
. "$TOP/tests/streamerd/lib.sh"

sed 's/"CO2 FLOAT"/"CO2 FLOAT NOT NULL"/' "$T/thermal.json" > "$T/strict.json"
grep -q 'CO2 FLOAT NOT NULL' "$T/strict.json" || sd_fail "could not make CO2 NOT NULL"
EMU_CONFIG=$T/strict.json emu_start --commit-lag-ms 100
sd_conf pat
fs_start -n 90
sd_start
wait_acked 90 20
sd_stop
fs_stop
rejected=30	# seqs 3, 6, ..., 90
n=$(sqlite3 "$DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA")
[ "$n" -eq $((90 - rejected)) ] || sd_fail "$n rows in the table, expected $((90 - rejected))"
bad=$(sqlite3 "$DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE CAST(substr(ROWID, 18) AS INTEGER) % 3 = 0")
[ "$bad" -eq 0 ] || sd_fail "$bad rows without co2 landed"
grep -q "row(s) rejected by the table; last error: ." "$T/sd.log" || sd_fail "rejections not logged"
logged=$(sed -n 's/.*: \([0-9]*\) row(s) rejected by the table.*/\1/p' "$T/sd.log" | awk '{ s += $1 } END { print s + 0 }')
[ "$logged" -eq $rejected ] || sd_fail "logged $logged rejected rows, expected $rejected"
grep -q "^streamerd_error_rows_total{[^}]*} $rejected$" "$T/metrics.prom" || sd_fail "metrics: $(grep error_rows "$T/metrics.prom")"
echo "ok: $rejected rejected rows logged and counted, the journal fully acked"
