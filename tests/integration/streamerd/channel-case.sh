#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 12, corner 1: the service stores an unquoted channel name upper-cased
# and matches bulk-status names exactly (the emulator's strict channel_case).
# streamerd, configured with a lower-case name, must ask for and find the
# name the open answer returned: every record committed once and acked with
# the channel opened once (a status that never finds the channel reopens it
# after every append), the rows carrying the stored name; --check passes on
# the same channel.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100 --strict=channel_case
streamerd_conf jwt '"channel_name": "pi-kitchen"'
start_fake_sensord -n 30 -r 20 -m 80
start_streamerd
wait_acked 80 30
stop_streamerd
check_table 80
opens=$(grep -c "channel PI-KITCHEN on .* opened" "$EMU_LOG")
[ "$opens" -eq 1 ] || fail "the channel was opened $opens times: its status was not found"
grep -q "no longer lists the channel" "$STREAMERD_LOG" && fail "the channel's status was not found"
n=$(sql "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE CHANNEL = 'PI-KITCHEN'")
[ "$n" -eq 80 ] || fail "$n rows under the stored name PI-KITCHEN, expected 80"
# (--check also asks the kernel whether the clock is synchronised: say yes)
LD_PRELOAD=$BUILD/lib/fakeclock.so FAKECLOCK_SYNCED=1 \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	"$STREAMERD_BIN" --check -f "$STREAMERD_CONF" >"$T/check.log" 2>&1 ||
	{ cat "$T/check.log"; fail "--check on an upper-cased channel"; }
stop_fake_sensord
echo "ok: lower-case channel name found as the service stores it (80 rows)"
