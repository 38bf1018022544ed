#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu wire-shape switches (JSON hostname and token, error_code and
# bare-string error bodies, ACTIVE, rows_errors, 409 for invalid channels)
# and strict_auth (scoped tokens only on channel endpoints, scope required).
# The lenient emulator (--no-strict), as these paths were written for it;
# test-strict.sh shows each strict behaviour next to its lenient one.
set -u
. "$TOP/tests/lib/harness.sh"

emu_world "$T/wire.json" \
	's/"commit_lag_ms": 1000,/"commit_lag_ms": 0, "strict_auth": true, "wire": { "hostname": "json", "token": "json", "errors": "error_code", "status_success": "ACTIVE", "rows_errors": true, "invalid_channel_http": 409 },/'
EMU_WORLD=$T/wire.json start_emu --no-strict

AUTH=$PAT req GET /v2/streaming/hostname
expect_status 200 hostname
expect_eq "$BODY" "{\"hostname\":\"$HOST\"}" "JSON hostname"
AUTH=$(jwt) req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer"
expect_status 400 "strict: scope required"
expect_body '"error_code":"INVALID_SCOPE"' "error_code shape"
AUTH=$(jwt) req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
expect_status 200 "token"
expect_body '"token":"' "JSON token"
expect_body '"expires_in":' "JSON token"
SCOPED=$(json_field token)

AUTH=$PAT req PUT "/v2/streaming/$PIPE_PATH/channels/w1" --data '{}'
expect_status 401 "strict: PAT on the ingest host"
AUTH=$(jwt) req PUT "/v2/streaming/$PIPE_PATH/channels/w1" --data '{}'
expect_status 401 "strict: JWT on the ingest host"
open_channel w1
expect_body '"channel_status_code":"ACTIVE"' "ACTIVE"
row 1 '"temperature":"bad"' > "$T/r"
append w1 "$CT" t1 "$T/r"
expect_status 200 append
wait_committed w1 t1
expect_body '"rows_errors":1' "rows_errors"
expect_body '"rows_error_count":1' "rows_error_count"
append w1 9_9 t2 "$T/r"
expect_body '"error_code":"ERR_CHANNEL_HAS_INVALID_CLIENT_SEQUENCER"' "error_code on append"
fault '{"kind":"invalidate_channel"}'
append w1 0_2 t2 "$T/r"
expect_status 409 "invalid channel as 409"
expect_body '"error_code":"ERR_CHANNEL_MUST_BE_REOPENED"' "409 code"
stop_emu

emu_world "$T/bare.json" 's/"commit_lag_ms": 1000,/"wire": { "errors": "bare" },/'
EMU_WORLD=$T/bare.json start_emu --no-strict
scoped_token
AUTH=$SCOPED req PUT "/v2/streaming/databases/DEMO_DB/schemas/DEMO_SCHEMA/pipes/NOPE/channels/x" --data '{}'
expect_status 404 "unknown pipe"
expect_eq "$BODY" '"ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED"' "bare error body"
AUTH=$SCOPED req PUT "/v2/streaming/databases/DEMO_DB/schemas/DEMO_SCHEMA/pipes/NOTABLE-STREAMING/channels/x" --data '{}'
expect_eq "$BODY" '"ERR_TABLE_DOES_NOT_EXIST_NOT_AUTHORIZED"' "default pipe of a missing table"
# quoted identifiers are case-sensitive: "demo_db" is not DEMO_DB
AUTH=$SCOPED req PUT "/v2/streaming/databases/%22demo_db%22/schemas/DEMO_SCHEMA/pipes/THERMAL_SENSOR_PIPE/channels/x" --data '{}'
expect_status 404 "quoted lower-case database"
AUTH=$SCOPED req PUT "/v2/streaming/databases/%22DEMO_DB%22/schemas/demo_schema/pipes/thermal_sensor_pipe/channels/x" --data '{}'
expect_status 200 "quoted upper-case and unquoted lower-case"
stop_emu

# an ingest host with underscores and capitals is served verbatim; the
# scope is compared the way clients normalise it (lower-case, '_' -> '-')
emu_world "$T/host.json" 's/"ingest_host": "127.0.0.1:{port}"/"ingest_host": "EMU_ACCT.Ingest.local:{port}"/'
EMU_WORLD=$T/host.json start_emu --no-strict
port=${HOST#*:}
AUTH=$PAT req GET /v2/streaming/hostname
expect_eq "$BODY" "EMU_ACCT.Ingest.local:$port" "raw ingest host"
AUTH=$PAT req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=emu-acct.ingest.local:$port"
expect_status 200 "normalised scope"
AUTH=$PAT req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=emu-acct.ingest.local"
expect_status 200 "normalised scope without port"
AUTH=$PAT req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=emu-acct.ingest.localx"
expect_status 400 "other host"
stop_emu
echo ok
