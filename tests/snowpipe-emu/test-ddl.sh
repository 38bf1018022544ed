#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu "ddl_file": the world's tables and pipes read from
# config/snowflake/setup.sql give the same SQLite table and the same rows as
# thermal.json; a custom DDL's NOT NULL, DEFAULT, NUMBER(p,s) and quoted
# names behave; unsupported DDL is refused at start naming the statement.
# The lenient emulator (--no-strict), as these paths were written for it;
# test-strict.sh shows each strict behaviour next to its lenient one.
set -u
. "$TOP/tests/lib/harness.sh"
setup=$TOP/config/snowflake/setup.sql
[ -f "$setup" ] || { echo "config/snowflake/setup.sql absent"; exit 77; }

# reference: the JSON world
start_emu --no-strict --commit-lag-ms 0
scoped_token
open_channel r1
row 1 > "$T/r"; row 2 '"temperature":"bad"' >> "$T/r"; row 3 >> "$T/r"
append r1 "$CT" t1 "$T/r"
wait_committed r1 t1
stop_emu
sqlite3 "$EMU_DB" 'pragma table_info(THERMAL_SENSOR_DATA)' > "$T/json.schema"
sqlite3 "$EMU_DB" 'select * from THERMAL_SENSOR_DATA' | cut -d'|' -f1-27 > "$T/json.rows"

# the same world from setup.sql
cat > "$T/ddl.json" <<J
{ "account": "EMUACCT", "commit_lag_ms": 0, "ddl_file": "$setup",
  "users": [ { "name": "STREAMER", "public_key_file": "streamer.pub",
               "pats": [ { "secret_file": "streamer.pat" } ] } ] }
J
EMU_DB=$T/ddl.db
EMU_WORLD=$T/ddl.json start_emu --no-strict
scoped_token
open_channel r1
append r1 "$CT" t1 "$T/r"
wait_committed r1 t1
expect_body '"rows_error_count":1' "conversion error from the DDL's FLOAT"
sqlite3 "$EMU_DB" 'pragma table_info(THERMAL_SENSOR_DATA)' > "$T/ddl.schema"
cmp -s "$T/json.schema" "$T/ddl.schema" || fail "SQLite schema differs: $(diff "$T/json.schema" "$T/ddl.schema")"
sqlite3 "$EMU_DB" 'select * from THERMAL_SENSOR_DATA' | cut -d'|' -f1-27 > "$T/ddl.rows"
cmp -s "$T/json.rows" "$T/ddl.rows" || fail "rows differ: $(diff "$T/json.rows" "$T/ddl.rows")"
AUTH=$SCOPED req PUT "/v2/streaming/databases/DEMO_DB/schemas/DEMO_SCHEMA/pipes/THERMAL_SENSOR_DATA-STREAMING/channels/d" --data '{}'
expect_status 200 "default pipe of a DDL table"
stop_emu

# a custom DDL
cat > "$T/custom.sql" <<'S'
-- comment; with a semicolon
CREATE DATABASE IF NOT EXISTS D1;
CREATE OR REPLACE TABLE D1.S1."Mixed Case" (
  ID NUMBER(38,0) NOT NULL,
  AMOUNT NUMBER(10,2) DEFAULT 1.5 COMMENT 'money; really',
  NOTE STRING DEFAULT 'none',
  FLAG BOOLEAN,
  AT TIMESTAMP_NTZ(9)
) COMMENT = 'x';
/* block
   comment */
CREATE PIPE IF NOT EXISTS D1.S1.P1 COMMENT = 'p' AS
COPY INTO D1.S1."Mixed Case" (ID, AMOUNT, FLAG, AT)
FROM (SELECT $1:id::NUMBER, $1:m.amount, $1:"Flag", $1:at FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')));
GRANT USAGE ON DATABASE D1 TO ROLE R;
S
cat > "$T/custom.json" <<J
{ "account": "EMUACCT", "commit_lag_ms": 0, "ddl_file": "custom.sql",
  "users": [ { "name": "STREAMER", "public_key_file": "streamer.pub" } ] }
J
EMU_DB=$T/custom.db
EMU_WORLD=$T/custom.json start_emu --no-strict
scoped_token
AUTH=$SCOPED req PUT /v2/streaming/databases/d1/schemas/s1/pipes/p1/channels/c --data '{}'
expect_status 200 "open custom pipe"
printf '%s\n' '{"id":1,"m":{"amount":"12.345"},"Flag":"yes","at":"2026-01-01T00:00:00"}' \
	'{"m":{"amount":2}}' '{"id":3,"flag":true}' > "$T/c"
AUTH=$SCOPED req POST "/v2/streaming/data/databases/D1/schemas/S1/pipes/P1/channels/c/rows?continuationToken=0_1&endOffsetToken=c1" --data-binary "@$T/c"
expect_status 200 "append custom"
AUTH=$SCOPED req POST /v2/streaming/databases/D1/schemas/S1/pipes/P1:bulk-channel-status --data '{"channel_names":["c"]}'
expect_body '"rows_inserted":2' "custom rows"
expect_body '"rows_error_count":1' "NOT NULL violation"
expect_eq "$(sql 'select ID, AMOUNT, NOTE, FLAG, AT from "Mixed Case" order by ID')" \
	"1|12.35|none|1|2026-01-01 00:00:00.000
3||none||" "custom rows (pipe columns get NULL, others the DEFAULT; \$1:\"Flag\" is case-sensitive)"
AUTH=$SCOPED req PUT "/v2/streaming/databases/D1/schemas/S1/pipes/%22Mixed%20Case%22-STREAMING/channels/c" --data '{}'
expect_status 404 "default pipe name is <TABLE>-STREAMING quoted as a whole"
AUTH=$SCOPED req PUT "/v2/streaming/databases/D1/schemas/S1/pipes/%22Mixed%20Case-STREAMING%22/channels/c" --data '{}'
expect_status 200 "quoted default pipe of a quoted table"
stop_emu

# unsupported DDL fails at start with the statement number
# shellcheck disable=SC2016 # $1 is the DDL's, not the shell's
printf 'CREATE TABLE D1.S1.T (A INT);\nCREATE PIPE D1.S1.P AS COPY INTO D1.S1.T (A) FROM (SELECT $1:a FROM TABLE(DATA_SOURCE(TYPE => %s)) WHERE $1:a > 0);\n' "'STREAMING'" > "$T/custom.sql"
"$EMU_BIN" --config "$T/custom.json" --db "$T/bad.db" > /dev/null 2> "$T/bad.err"
rc=$?
expect_eq "$rc" 3 "exit status for a bad DDL"
grep -q 'statement 2: pipe WHERE filters are not emulated' "$T/bad.err" || fail "message: $(cat "$T/bad.err")"
stop_emu
echo ok
