#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 12, corner 4: with "role" configured, the token scope is the ingest
# host alone (the emulator's strict scope_host refuses anything else, as the
# documented form is the host alone); the role rides in the JWT's scp claim.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100 --strict=scope_host
streamerd_conf jwt '"channel_name": "scoped", "role": "INGEST_ROLE"'
start_fake_sensord -n 30
start_streamerd
wait_acked 30 30
stop_streamerd
stop_fake_sensord
check_table 30
grep -q "INVALID_SCOPE" "$EMU_LOG" && fail "a scope other than the host was sent"
echo "ok: role configured, scope = ingest host, 30 records"
