#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 12, corner 3: an append refusal that repeats with no commit (a 400
# with a code streamerd does not know) ends, after a bounded number of
# reopens, in one fatal error with exit 4 naming the HTTP status, the code
# and the message; nothing is acked and the records stay in the journal.
# Then the same for an open that keeps being refused.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100
streamerd_conf jwt '"channel_name": "refused"'
start_fake_sensord -n 20
fault '{"kind":"status","route":"append","status":400,"count":-1,"body":{"code":"ERR_SOMETHING_NEW","message":"a refusal nobody has seen"}}'
start_streamerd
rc=0
wait_exit "$STREAMERD_PID" streamerd 60 || rc=$?
STREAMERD_PID=""
[ "$rc" -eq 4 ] || fail "exit $rc, expected 4"
grep -q "PRODUCTION MODE FAILED.*HTTP 400 ERR_SOMETHING_NEW: a refusal nobody has seen" \
	"$STREAMERD_LOG" || fail "the fatal message does not name status, code and message"
n=$(grep -c "PRODUCTION MODE FAILED" "$STREAMERD_LOG")
[ "$n" -eq 1 ] || fail "$n fatal lines, expected one"
appends=$(AUTH='' req GET /_emu/stats && printf '%s' "$BODY" |
	python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["requests"]["append"].values()))')
[ "$appends" -le 10 ] || fail "$appends appends before giving up"
[ "$(acked)" -eq 0 ] || fail "acked $(acked) with nothing committed"

# an open refused again and again
fault '{"kind":"clear"}'
fault '{"kind":"status","route":"open","status":400,"count":-1,"body":{"code":"ERR_ALSO_NEW","message":"no"}}'
: >"$STREAMERD_LOG"
start_streamerd
rc=0
wait_exit "$STREAMERD_PID" streamerd 60 || rc=$?
STREAMERD_PID=""
[ "$rc" -eq 4 ] || fail "open refused: exit $rc, expected 4"
grep -q "PRODUCTION MODE FAILED.*HTTP 400 ERR_ALSO_NEW" "$STREAMERD_LOG" ||
	fail "the open's fatal message does not name the answer"
stop_fake_sensord
no_secrets "$STREAMERD_LOG"
echo "ok: persistent refusals end in one exit 4 ($appends appends)"
