#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu misbehaviour on demand (faults API): a 5 KB last_error_message
# in open and status answers; a persistent unknown 4xx on append (400 with a
# new code, 413, 415) until cleared; ERR_CHANNEL_HAS_INVALID_ROW_SEQUENCER for
# a repeated append; x-snowflake-session on answers with the client's echo
# counted; 401 for a JWT issued more than 60 s before a control-plane call
# (394302 in the log); and a canned real answer replayed byte for byte.
# Channel names are upper case so that the test holds whether or not the
# strict behaviours are the default.
set -u
. "$TOP/tests/lib/harness.sh"

jv() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if isinstance(r, str) else json.dumps(r))' \
		"$T/body" "$1" 2>/dev/null
}

start_emu --commit-lag-ms 0
scoped_token
row 1 > "$T/r1"
row 2 > "$T/r2"
row 3 > "$T/r3"

# ------------------------------------------- a 5 KB last_error_message
open_channel E1
expect_eq "$(jv 'v["channel_status"]["last_error_message"]')" null "no error yet"
fault '{"kind":"long_error_message","bytes":5120}'
open_channel E1
expect_eq "$(jv 'len(v["channel_status"]["last_error_message"].encode())')" 5120 \
	"5 KB message in the open answer"
CT=$(json_field next_continuation_token)
channel_status E1
expect_eq "$(jv 'len(v["channel_statuses"]["E1"]["last_error_message"].encode())')" 5120 \
	"5 KB message in the status answer"
expect_eq "$(jv 'type(v["channel_statuses"]["E1"]["last_error_timestamp"]).__name__')" int \
	"with a time"
AUTH='' req DELETE /_emu/faults
channel_status E1
expect_eq "$(jv 'v["channel_statuses"]["E1"]["last_error_message"]')" null "cleared"

# ------------------------------- a persistent unknown 4xx until cleared
for spec in '400,{"code":"ERR_NEVER_SEEN_BEFORE","message":"new"}' \
	'413,{"code":"ERR_SOMETHING_TOO_BIG","message":"x"}' '415,"Unsupported Media Type"'; do
	st=${spec%%,*} injected=${spec#*,}
	fault "{\"kind\":\"status\",\"route\":\"append\",\"status\":$st,\"count\":-1,\"body\":$injected}"
	for i in 1 2 3; do
		append E1 "$CT" t1 "$T/r1"
		expect_status "$st" "injected $st, attempt $i"
	done
	# a JSON string is sent as its text (a proxy's plain answer), JSON as is
	expect_eq "$BODY" "$(printf '%s' "$injected" | python3 -c 'import json,sys; v=json.loads(sys.stdin.read()); print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))')" \
		"body of the injected $st"
	AUTH='' req DELETE /_emu/faults
done
AUTH='' req GET /_emu/stats
expect_eq "$(jv 'v["appends_accepted"]')" 0 "nothing appended while refused"
append E1 "$CT" t1 "$T/r1"
expect_status 200 "append after the faults are cleared"
CT1=$CT
CT=$(json_field next_continuation_token)

# --------------------------- a repeated append: answered, then refused
append E1 "$CT1" t1 "$T/r1"
expect_status 200 "a repeated append is answered again by default"
fault '{"kind":"refuse_replay"}'
append E1 "$CT1" t1 "$T/r1"
expect_status 400 "a repeated append refused on demand"
expect_eq "$(jv 'v["code"]')" ERR_CHANNEL_HAS_INVALID_ROW_SEQUENCER "its code"
append E1 "$CT" t2 "$T/r2"
expect_status 200 "the next append is not refused"
CT=$(json_field next_continuation_token)
AUTH='' req GET /_emu/stats
expect_eq "$(jv 'v["appends_replayed"]')" 1 "one replay answered"

# --------------------------------------------------- x-snowflake-session
fault '{"kind":"session","value":"MTAuNC4zLjE0NDoxMDAwMA=="}'
append E1 "$CT" t3 "$T/r3"
expect_status 200 "append with a session"
grep -qi '^x-snowflake-session: MTAuNC4zLjE0NDoxMDAwMA==' "$HDRS" || fail "no session header"
CT=$(json_field next_continuation_token)
row 4 > "$T/r4"; row 5 > "$T/r5"; row 6 > "$T/r6"
append E1 "$CT" t4 "$T/r4" -H 'x-snowflake-session: MTAuNC4zLjE0NDoxMDAwMA=='
CT=$(json_field next_continuation_token)
append E1 "$CT" t5 "$T/r5"
CT=$(json_field next_continuation_token)
append E1 "$CT" t6 "$T/r6" -H 'x-snowflake-session: other'
expect_status 200 "the service does not refuse a missing echo"
AUTH='' req GET /_emu/stats
expect_eq "$(jv 'v["session"]')" '{"sent": 4, "echoed": 1, "missing": 1, "wrong": 1}' \
	"echo counted"
AUTH='' req DELETE /_emu/faults
fault '{"kind":"session","route":"hostname","count":1}'
AUTH=$PAT req GET /v2/streaming/hostname
want=$(printf '%s' "$HOST" | base64)
grep -qi "^x-snowflake-session: $want" "$HDRS" || fail "default session value: $(cat "$HDRS")"
AUTH=$PAT req GET /v2/streaming/hostname
grep -qi '^x-snowflake-session' "$HDRS" && fail "count 1 was not honoured"

# ----------------------------- 394302: a JWT issued more than 60 s ago
AUTH=$(jwt --iat-offset -120) req GET /v2/streaming/hostname
expect_status 200 "by default a JWT is good until it expires"
fault '{"kind":"jwt_max_age","s":60}'
AUTH=$(jwt --iat-offset -120) req GET /v2/streaming/hostname
expect_status 401 "JWT issued 120 s ago on hostname"
expect_eq "$(jv 'v["code"]')" 390144 "generic code for the client"
grep -q 'JWT_TOKEN_INVALID_ISSUE_TIME (394302): issued 1[12][0-9] s ago' "$EMU_LOG" ||
	fail "no 394302 reason in the log"
AUTH=$(jwt --iat-offset -120) req POST /oauth/token \
	--data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
expect_status 401 "JWT issued 120 s ago on the token exchange"
AUTH=$(jwt --iat-offset -10) req GET /v2/streaming/hostname
expect_status 200 "JWT issued 10 s ago"
AUTH=$(jwt --iat-offset -120) req PUT "/v2/streaming/$PIPE_PATH/channels/E2" --data '{}'
expect_status 200 "the ingest host does not apply it"
AUTH='' req DELETE /_emu/faults
AUTH=$(jwt --iat-offset -120) req GET /v2/streaming/hostname
expect_status 200 "cleared with the faults"

# ------------------------------------- a canned real answer, replayed
ans=$TOP/tests/snowpipe-emu/answers/stale-sequencer-emqx-18056.http
fault "{\"kind\":\"answer\",\"route\":\"append\",\"file\":\"$ans\"}"
append E1 "$CT" t7 "$T/r1"
expect_status 400 "the recorded status"
grep -qi '^x-snowflake-session: MTAuNC4zLjE0NDoxMDAwMA==' "$HDRS" || fail "recorded session header"
grep -qi '^server: SF-LB-T1' "$HDRS" || fail "recorded server header"
grep -qi '^content-type: application/json' "$HDRS" || fail "recorded content type"
sed '1,/^$/d' "$ans" > "$T/want"
printf '%s' "$(cat "$T/want")" > "$T/want1"	# without the file's final newline
cmp -s "$T/body" "$T/want1" || fail "body differs: $(cat "$T/body")"
AUTH='' req POST /_emu/faults --data '{"kind":"answer","file":"/nonexistent.http"}'
expect_status 400 "a missing answer file is refused"
stop_emu
echo ok
