#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 12, corner 5: with a PAT, streamerd uses it as it is as the Bearer
# on the ingest host (the only path seen working against a real account);
# the emulator's strict pat_direct refuses a PAT at /oauth/token. Nothing
# may be refused: no token exchange is tried, no 401 is answered.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100 --strict=pat_direct
streamerd_conf pat '"channel_name": "patdirect"'
start_fake_sensord -n 30
start_streamerd
wait_acked 30 30
stop_streamerd
stop_fake_sensord
check_table 30
AUTH='' req GET /_emu/stats
printf '%s' "$BODY" | python3 -c '
import json, sys
r = json.load(sys.stdin)["requests"]
tok = sum(r.get("token", {}).values())
refused = sum(n for route in r.values() for st, n in route.items() if st == "401")
sys.exit(f"{tok} token exchanges, {refused} answers 401" if tok or refused else 0)
' || fail "the PAT was not used directly"
no_secrets "$STREAMERD_LOG"
echo "ok: PAT used directly, no exchange tried, 30 records"
