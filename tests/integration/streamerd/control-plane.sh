#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 12, corner 7: a fresh JWT for every control-plane call (the service
# refuses one issued more than 60 s before it arrives, error 394302; the
# emulator's jwt_max_age checks it, here at 2 s): scoped tokens that live
# 8 s are fetched again and again, each time with a new JWT, while records
# keep landing. And x-snowflake-session echoed on every append once the
# service has sent it.
set -u
. "$TOP/tests/lib/harness.sh"

emu_world "$T/short.json" 's/"scoped_token_ttl_s": 3600/"scoped_token_ttl_s": 8/'
EMU_WORLD=$T/short.json start_emu --commit-lag-ms 100
fault '{"kind":"session"}'
fault '{"kind":"jwt_max_age","s":2}'
streamerd_conf jwt '"channel_name": "ctl"'
start_fake_sensord -n 20 -r 5 -m 120
start_streamerd
wait_acked 120 40
stop_streamerd
stop_fake_sensord
check_table 120
grep -q "JWT_TOKEN_INVALID_ISSUE_TIME" "$EMU_LOG" && fail "a JWT was reused past its age"
tokens=$(grep -c "scoped token issued" "$EMU_LOG")
[ "$tokens" -ge 2 ] || fail "$tokens scoped tokens in 20 s of 8 s tokens"
AUTH='' req GET /_emu/stats
printf '%s' "$BODY" | python3 -c '
import json, sys
s = json.load(sys.stdin)["session"]
sys.exit(0 if s.get("echoed", 0) > 0 and s.get("missing", 0) == 0 and s.get("wrong", 0) == 0
	else f"session header: {s}")' || fail "x-snowflake-session not echoed"
echo "ok: $tokens scoped tokens, each with a fresh JWT; session echoed"
