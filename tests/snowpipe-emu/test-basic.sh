#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu happy paths: hostname, token exchange (JWT and PAT, raw and
# form-assertion), open, append (none/gzip/zstd), commit after the lag with
# typed columns in SQLite, bulk status fields, drop, and keep-alive stats.
# The lenient emulator (--no-strict), as these paths were written for it;
# test-strict.sh shows each strict behaviour next to its lenient one.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --no-strict --commit-lag-ms 300

# hostname: plain text with JWT and with PAT
AUTH=$(jwt) req GET /v2/streaming/hostname
expect_status 200 hostname
expect_eq "$BODY" "$HOST" "hostname body"
AUTH=$PAT req GET /v2/streaming/hostname
expect_status 200 "hostname with PAT"

# token exchange: bearer JWT, PAT, and the JWT as a form assertion
scoped_token
case $SCOPED in *.*.*) ;; *) fail "scoped token not JWT-shaped: $SCOPED" ;; esac
AUTH=$PAT req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
expect_status 200 "token with PAT"
AUTH='' req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=$(jwt)&scope=$HOST%20session%3Arole%3AOTHER_ROLE"
expect_status 200 "token with assertion"
AUTH='' req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=$PAT&subject_token_type=programmatic_access_token&scope=$HOST"
expect_status 200 "token exchange RFC 8693"

# a scoped token never outlives the JWT it came from
j=$(jwt --lifetime 120)
AUTH=$j req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
expect_status 200 "token from a short JWT"
expect_eq "$(jwt_claim "$BODY" exp)" "$(jwt_claim "$j" exp)" "scoped exp = JWT exp"
expect_eq "$(jwt_claim "$SCOPED" sub)" EMUACCT.STREAMER "scoped token subject"

# open a new channel: token 0_1, committed null, SUCCESS
open_channel ch1
expect_eq "$CT" 0_1 "first token"
expect_body '"channel_status_code":"SUCCESS"' open
expect_body '"last_committed_offset_token":null' open
expect_body '"channel_name":"ch1"' open

# three appends: plain, gzip, zstd
row 1 > "$T/b1"; row 2 >> "$T/b1"
append ch1 "$CT" tok-2 "$T/b1"
expect_status 200 "append plain"
CT=$(json_field next_continuation_token)
expect_eq "$CT" 0_2 "token after append"
row 3 | gzip -c > "$T/b2"
append ch1 "$CT" tok-3 "$T/b2" -H 'Content-Encoding: gzip'
expect_status 200 "append gzip"
CT=$(json_field next_continuation_token)
if command -v zstd >/dev/null 2>&1; then
	row 4 | zstd -q -c > "$T/b3"
	append ch1 "$CT" tok-4 "$T/b3" -H 'Content-Encoding: zstd'
	expect_status 200 "append zstd"
	last=tok-4 n=4 nb=3
else
	last=tok-3 n=3 nb=2
fi

# 200 is not durable: right after the append nothing is committed yet
channel_status ch1
expect_status 200 status
expect_body '"last_committed_offset_token":null' "status before commit lag"
wait_committed ch1 $last
expect_body "\"rows_inserted\":$n" status
expect_body "\"rows_parsed\":$n" status
expect_body '"rows_error_count":0' status
expect_body '"database_name":"DEMO_DB"' status
expect_body '"pipe_name":"THERMAL_SENSOR_PIPE"' status
expect_body '"snowflake_avg_processing_latency_ms":' status

# rows landed with their types and the pipe's projection
expect_eq "$(sql 'select count(*) from THERMAL_SENSOR_DATA')" $n "row count"
expect_eq "$(sql "select TEMPERATURE, CPUTEMPF, DATETIMESTAMP, DISKUSAGE, OFFSET_TOKEN, CHANNEL from THERMAL_SENSOR_DATA where UUID='u-2'")" \
	"21.5|120|2026-01-01 00:00:00.123|1200 MB|tok-2|ch1" "row u-2"
expect_eq "$(sql "select typeof(TEMPERATURE), typeof(CPUTEMPF), typeof(IPADDRESS) from THERMAL_SENSOR_DATA where UUID='u-1'")" \
	"real|integer|null" "column types"
expect_eq "$(sql "select json_extract(RAW_DATA, '\$.seq') || json_extract(RAW_DATA, '\$.device') from THERMAL_SENSOR_DATA where UUID='u-3'")" \
	"3pi" "RAW_DATA variant"

# the default pipe maps keys to columns case-insensitively
AUTH=$SCOPED req PUT /v2/streaming/databases/demo_db/schemas/demo_schema/pipes/THERMAL_SENSOR_DATA-STREAMING/channels/dflt --data '{}'
expect_status 200 "open default pipe"
printf '{"UUID":"d-1","Temperature":"19.25","raw_data":{"a":1},"unknown_key":5}\n' > "$T/d1"
AUTH=$SCOPED req POST "/v2/streaming/data/databases/DEMO_DB/schemas/DEMO_SCHEMA/pipes/THERMAL_SENSOR_DATA-STREAMING/channels/dflt/rows?continuationToken=0_1&offsetToken=d1" --data-binary "@$T/d1"
expect_status 200 "append default pipe (legacy offsetToken)"
AUTH='' req POST /_emu/commit
expect_status 200 "force commit"
expect_eq "$(sql "select TEMPERATURE, RAW_DATA, OFFSET_TOKEN from THERMAL_SENSOR_DATA where UUID='d-1'")" \
	'19.25|{"a":1}|d1' "default pipe row"

# reopen returns the committed token and bumps the client sequencer
open_channel ch1
expect_eq "$CT" "1_$((nb + 1))" "token after reopen"
expect_body "\"last_committed_offset_token\":\"$last\"" "reopen"

# open with offset_token sets it
open_channel ch2 '{"offset_token":"0","fail_on_uncommitted_rows":false}'
expect_body '"last_committed_offset_token":"0"' "open with offset_token"

# bulk status: unknown channels are absent, names are keys as sent
channel_status ch1 nosuch CH2
expect_body '"ch1":{' "status ch1"
expect_body '"CH2":{' "status key as requested"
case $BODY in *nosuch*) fail "unknown channel present in status" ;; esac

# drop: 200, then gone from status, rows stay, old token refused
AUTH=$SCOPED req DELETE "/v2/streaming/$PIPE_PATH/channels/ch1"
expect_status 200 drop
channel_status ch1
expect_eq "$BODY" '{"channel_statuses":{}}' "status after drop"
expect_eq "$(sql "select count(*) from THERMAL_SENSOR_DATA where CHANNEL='ch1'")" $n "rows after drop"
append ch1 "$CT" x "$T/b1"
expect_status 400 "append after drop"
expect_body ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED "append after drop"
AUTH=$SCOPED req DELETE "/v2/streaming/$PIPE_PATH/channels/ch1"
expect_status 404 "drop again"

# keep-alive: 20 requests on one curl invocation = one TLS handshake
before=$(AUTH='' req GET /_emu/stats; json_field tls_handshakes)
set --
i=0; while [ $i -lt 20 ]; do set -- "$@" "$URL/v2/streaming/hostname"; i=$((i + 1)); done
curl -sS --cacert "$EMU_CA" -H 'Accept: application/json' -H "Authorization: Bearer $PAT" "$@" >/dev/null ||
	fail "keep-alive curl"
AUTH='' req GET /_emu/stats
after=$(json_field tls_handshakes)
expect_eq "$((after - before))" 2 "TLS handshakes for 20 keep-alive requests (+1 for the stats call)"
expect_body '"hostname":{"200":22}' "stats by route"
stop_emu
echo ok
