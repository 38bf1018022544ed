#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu strict behaviours, each switched on alone (--strict=NAME) and
# shown at the HTTP level next to the lenient behaviour (--no-strict, today's
# default; nothing here depends on which one is the default): channel names
# stored as SQL identifiers (bulk status matched exactly), 409 for an
# invalidated channel, PAT used directly (exchange refused), scope = the
# ingest host alone, timestamps kept to the microsecond; then --strict
# (all), the config key "strict" and a bad --strict list.
set -u
. "$TOP/tests/lib/harness.sh"

# jv EXPR: a value from the last answer's JSON body (v), printed bare.
jv() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if isinstance(r, str) else json.dumps(r))' \
		"$T/body" "$1" 2>/dev/null
}

# strict_in_force: the "strict" object of /_emu/stats, as compact JSON.
strict_in_force() {
	AUTH='' req GET /_emu/stats
	jv 'v["strict"]' | tr -d ' '
}

row 1 > "$T/r1"
row 2 > "$T/r2"

# ------------------------------------- lenient (today's default, --no-strict)
start_emu --commit-lag-ms 0 --no-strict
expect_eq "$(strict_in_force)" \
	'{"channel_case":false,"invalid_409":false,"pat_direct":false,"scope_host":false,"ts_micros":false}' \
	"--no-strict: nothing strict"
scoped_token
open_channel lc
expect_eq "$(jv 'v["channel_status"]["channel_name"]')" lc "lenient: name as sent"
channel_status lc LC
expect_eq "$(jv 'sorted(v["channel_statuses"])')" '["LC", "lc"]' "lenient: status ignores case"
fault '{"kind":"invalidate_channel","channel":"lc"}'
append lc "$CT" t1 "$T/r1"
expect_status 400 "lenient: invalidated channel"
AUTH=$PAT req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
expect_status 200 "lenient: PAT exchange"
AUTH=$(jwt) req POST /oauth/token \
	--data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST%20session%3Arole%3AINGEST_ROLE"
expect_status 200 "lenient: role suffix in the scope"
open_channel lc
row 3 '"datetimestamp":"2026-01-01T00:00:00.123456Z"' > "$T/ts"
append lc "$CT" t-ts "$T/ts"
expect_status 200 "append a microsecond timestamp"
wait_committed lc t-ts
expect_eq "$(sql "select DATETIMESTAMP from THERMAL_SENSOR_DATA where UUID='u-3'")" \
	"2026-01-01 00:00:00.123" "lenient: milliseconds"
stop_emu
rm -f "$EMU_DB"*

# ------------------------------------------------------- (a) channel_case
start_emu --commit-lag-ms 0 --strict=channel_case
expect_eq "$(strict_in_force | sed -n 's/.*"channel_case":\([a-z]*\).*/\1/p')" true "only channel_case"
scoped_token
open_channel c1
expect_eq "$(jv 'v["channel_status"]["channel_name"]')" C1 "unquoted name stored upper-cased"
expect_eq "$(jv 'v["channel_status"]["database_name"]')" DEMO_DB "database name as stored"
expect_eq "$(jv 'v["channel_status"]["pipe_name"]')" THERMAL_SENSOR_PIPE "pipe name as stored"
append C1 "$CT" t1 "$T/r1"
expect_status 200 "the URL name matches case-insensitively"
CT=$(json_field next_continuation_token)
append c1 "$CT" t2 "$T/r2"
expect_status 200 "same channel, lower case again"
wait_committed C1 t2
channel_status c1
expect_status 200 "bulk status"
expect_eq "$(jv 'v["channel_statuses"]')" '{}' "a lower-case name sent verbatim is not found"
channel_status C1
expect_eq "$(jv 'v["channel_statuses"]["C1"]["channel_name"]')" C1 "the stored name is found"
expect_eq "$(sql "select group_concat(distinct CHANNEL) from THERMAL_SENSOR_DATA")" C1 \
	"rows carry the stored name"
AUTH=$SCOPED req PUT "/v2/streaming/$PIPE_PATH/channels/%22Mixed%22" --data '{}'
expect_status 200 "open a quoted name"
expect_eq "$(jv 'v["channel_status"]["channel_name"]')" Mixed "a quoted name keeps its case"
open_channel mixed
expect_eq "$CT" 0_1 "unquoted mixed is another channel (MIXED)"
channel_status Mixed MIXED mixed
expect_eq "$(jv 'sorted(v["channel_statuses"])')" '["MIXED", "Mixed"]' "exact names only"
AUTH=$SCOPED req PUT /v2/streaming/databases/demo_db/schemas/demo_schema/pipes/thermal_sensor_data-streaming/channels/d1 \
	--data '{}'
expect_status 200 "open on the default pipe, lower case"
expect_eq "$(jv 'v["channel_status"]["pipe_name"]')" THERMAL_SENSOR_DATA-STREAMING "default pipe name as stored"
stop_emu
rm -f "$EMU_DB"*

# ------------------------------------------------------- (b) invalid_409
start_emu --commit-lag-ms 0 --strict=invalid_409
scoped_token
open_channel v1
fault '{"kind":"invalidate_channel","channel":"v1"}'
append v1 "$CT" t1 "$T/r1"
expect_status 409 "invalidated channel answers 409"
expect_eq "$(jv 'v["code"]')" ERR_CHANNEL_MUST_BE_REOPENED "with the channel's code"
channel_status v1
expect_eq "$(jv 'v["channel_statuses"]["v1"]["channel_status_code"]')" ERR_CHANNEL_MUST_BE_REOPENED \
	"status shows the code"
open_channel v1
append v1 "$CT" t1 "$T/r1"
expect_status 200 "append after the reopen"
stop_emu
rm -f "$EMU_DB"*

# -------------------------------------------------------- (c) pat_direct
emu_world "$T/sa.json" 's/"commit_lag_ms": 1000/"commit_lag_ms": 0, "strict_auth": true/'
EMU_WORLD=$T/sa.json start_emu --strict=pat_direct
AUTH=$PAT req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
expect_status 401 "PAT exchange (jwt-bearer form) refused"
expect_eq "$(jv 'v["code"]')" PAT_INVALID "PAT refusal code"
AUTH='' req POST /oauth/token \
	--data "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=$PAT&subject_token_type=programmatic_access_token&scope=$HOST"
expect_status 401 "PAT exchange (RFC 8693 form) refused"
grep -q 'token exchange refused a PAT' "$EMU_LOG" || fail "log does not say why"
AUTH=$PAT req GET /v2/streaming/hostname
expect_status 200 "hostname with the PAT"
SCOPED=$PAT
open_channel p1
expect_eq "$CT" 0_1 "open with the PAT as Bearer (strict_auth on)"
append p1 "$CT" t1 "$T/r1"
expect_status 200 "append with the PAT"
wait_committed p1 t1
expect_eq "$(sql "select count(*) from THERMAL_SENSOR_DATA where OFFSET_TOKEN='t1'")" 1 "row landed"
scoped_token
expect_status 200 "key-pair JWT exchange still works"
stop_emu
rm -f "$EMU_DB"*

# -------------------------------------------------------- (d) scope_host
start_emu --strict=scope_host
AUTH=$(jwt) req POST /oauth/token \
	--data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST%20session%3Arole%3AINGEST_ROLE"
expect_status 400 "role suffix refused"
expect_eq "$(jv 'v["code"]')" INVALID_SCOPE "scope error code"
expect_body "session:role:INGEST_ROLE" "the message names the scope"
AUTH=$(jwt) req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer"
expect_status 400 "missing scope refused"
AUTH=$(jwt) req POST /oauth/token --data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=127.0.0.1"
expect_status 200 "the host without its port"
scoped_token
expect_status 200 "the ingest host alone"
stop_emu
rm -f "$EMU_DB"*

# --------------------------------------------------------- (e) ts_micros
start_emu --commit-lag-ms 0 --strict=ts_micros
scoped_token
open_channel t1
{
	row 3 '"datetimestamp":"2026-01-01T00:00:00.123456Z"'
	row 4 '"datetimestamp":"2026-01-01T00:00:00.1234567+02:00"'
	row 5 '"datetimestamp":1767225600654321'
	row 6 '"datetimestamp":"2026-01-01T00:00:00.5"'
} > "$T/ts"
append t1 "$CT" t-ts "$T/ts"
expect_status 200 "append microsecond timestamps"
wait_committed t1 t-ts
expect_eq "$(sql "select group_concat(DATETIMESTAMP, '|') from (select DATETIMESTAMP from THERMAL_SENSOR_DATA order by rowid)")" \
	"2026-01-01 00:00:00.123456|2026-01-01 00:00:00.123456|2026-01-01 00:00:00.654321|2026-01-01 00:00:00.500000" \
	"microseconds kept"
stop_emu
rm -f "$EMU_DB"*

# --------------------------------------------------- all, config, errors
start_emu --strict
expect_eq "$(strict_in_force)" \
	'{"channel_case":true,"invalid_409":true,"pat_direct":true,"scope_host":true,"ts_micros":true}' \
	"--strict turns all on"
stop_emu
emu_world "$T/st.json" 's/"commit_lag_ms": 1000/"commit_lag_ms": 0, "strict": {"all": true, "pat_direct": false}/'
EMU_WORLD=$T/st.json start_emu
expect_eq "$(strict_in_force)" \
	'{"channel_case":true,"invalid_409":true,"pat_direct":false,"scope_host":true,"ts_micros":true}' \
	"config \"strict\""
stop_emu
EMU_WORLD=$T/st.json start_emu --no-strict
expect_eq "$(strict_in_force)" \
	'{"channel_case":false,"invalid_409":false,"pat_direct":false,"scope_host":false,"ts_micros":false}' \
	"--no-strict overrides the config"
stop_emu
"$EMU_BIN" --config "$T/thermal.json" --db "$T/x.db" --strict=channel_case,bogus >/dev/null 2>"$T/err"
expect_eq "$?" 2 "exit status for a bad --strict"
grep -q 'unknown strict behaviour "bogus"' "$T/err" || fail "message: $(cat "$T/err")"
echo ok
