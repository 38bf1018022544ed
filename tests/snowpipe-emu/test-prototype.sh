#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu with the Python prototype's own DDL (tests/snowpipe-emu/
# prototype.sql: USE DATABASE/SCHEMA then unqualified names, DECIMAL(p, s)
# columns, DEFAULT CURRENT_TIMESTAMP(), casts with arguments, aliases,
# TO_TIMESTAMP_NTZ): the emulator starts on it, streamerd-shaped and
# prototype-shaped rows land through the named pipe and the default pipe with
# the DECIMAL scales applied and one constant ingestion time, and an
# unqualified name without USE is refused at start naming the statement.
set -u
. "$TOP/tests/lib/harness.sh"
proto=$TOP/tests/snowpipe-emu/prototype.sql

cat > "$T/proto.json" <<J
{ "account": "EMUACCT", "commit_lag_ms": 0, "ddl_file": "$proto",
  "users": [ { "name": "STREAMER", "public_key_file": "streamer.pub",
               "pats": [ { "secret_file": "streamer.pat" } ] } ] }
J
# shellcheck disable=SC2034 # read by open_channel and append (tests/lib/emu.sh)
PIPE_PATH=databases/demo/schemas/demo/pipes/thermal_sensor_pipe
EMU_WORLD=$T/proto.json start_emu --strict=ts_micros
scoped_token
expect_eq "$(sqlite3 "$EMU_DB" 'select count(*) from pragma_table_info("THERMAL_SENSOR_DATA")')" 29 \
	"26 columns and the emulator's 3"
expect_eq "$(sqlite3 "$EMU_DB" "select type from pragma_table_info('THERMAL_SENSOR_DATA') where name in ('TEMPERATURE','CPUTEMPF','INGESTION_TIMESTAMP') order by cid")" \
	"REAL
INTEGER
TEXT" "column types"

open_channel p1
{
	row 1 '"temperature":21.56789' '"humidity":40.126' '"pressure":101325.456' \
		'"datetimestamp":"2026-01-01T00:00:00.123456"'
	# a row as the prototype wrote it: strings for numbers, an offset time
	printf '%s\n' '{"uuid":"proto-1","rowid":"20251122030001_x","hostname":"thermal","host":"thermal","ipaddress":"192.0.2.7","macaddress":"02:00:00:00:00:01","temperature":31.87761,"humidity":23.89,"co2":898,"equivalentco2ppm":"400","totalvocppb":"  0","pressure":100929.72,"cputempf":140,"temperatureicp":89.28,"cpu":28.5,"memory":13.5,"diskusage":"91379.3 MB","runtime":3,"ts":1763780401,"systemtime":"11/22/2025 03:00:01","starttime":"11/22/2025 03:00:01","endtime":"1763780403.801484","datetimestamp":"2025-11-22T03:00:01.242053+00:00","te":"2.5594329833984375"}'
} > "$T/rows"
append p1 "$CT" t1 "$T/rows"
expect_status 200 "append to the prototype's pipe"
wait_committed p1 t1
expect_body '"rows_error_count":0' "both rows convert"
expect_eq "$(sql "select TEMPERATURE, HUMIDITY, PRESSURE, CO2, TOTALVOCPPB, DATETIMESTAMP from THERMAL_SENSOR_DATA where UUID='u-1'")" \
	"21.5679|40.13|101325.46|612.0||2026-01-01 00:00:00.123456" "DECIMAL scales, TO_TIMESTAMP_NTZ"
expect_eq "$(sql "select TEMPERATURE, EQUIVALENTCO2PPM, TOTALVOCPPB, DATETIMESTAMP, json_extract(RAW_DATA, '\$.rowid') from THERMAL_SENSOR_DATA where UUID='proto-1'")" \
	"31.8776|400.0|0.0|2025-11-22 03:00:01.242053|20251122030001_x" "the prototype's row"
expect_eq "$(sql "select count(distinct INGESTION_TIMESTAMP), count(INGESTION_TIMESTAMP) from THERMAL_SENSOR_DATA")" \
	"1|2" "the DEFAULT is one time for every row"

# the table's default pipe, lower case in the URL
AUTH=$SCOPED req PUT /v2/streaming/databases/demo/schemas/demo/pipes/thermal_sensor_data-streaming/channels/d1 \
	--data '{}'
expect_status 200 "open on the default pipe"
row 2 '"temperature":"22.25"' > "$T/r2"
AUTH=$SCOPED req POST \
	"/v2/streaming/data/databases/DEMO/schemas/DEMO/pipes/THERMAL_SENSOR_DATA-STREAMING/channels/d1/rows?continuationToken=0_1&endOffsetToken=t2" \
	--data-binary "@$T/r2"
expect_status 200 "append through the default pipe"
AUTH='' req POST /_emu/commit
expect_eq "$(sql "select TEMPERATURE, INGESTION_TIMESTAMP is not null, RAW_DATA is null from THERMAL_SENSOR_DATA where UUID='u-2'")" \
	"22.25|1|1" "default pipe: matched by name, DEFAULT applied, no RAW_DATA key"
stop_emu

# without USE, an unqualified name is refused at start
printf 'CREATE TABLE THERMAL_SENSOR_DATA (a INT);\n' > "$T/bad.sql"
sed "s|$proto|$T/bad.sql|" "$T/proto.json" > "$T/bad.json"
"$EMU_BIN" --config "$T/bad.json" --db "$T/bad.db" > /dev/null 2> "$T/bad.err"
expect_eq "$?" 3 "exit status for an unqualified name"
grep -q 'statement 1: THERMAL_SENSOR_DATA is not qualified' "$T/bad.err" ||
	fail "message: $(cat "$T/bad.err")"
echo ok
