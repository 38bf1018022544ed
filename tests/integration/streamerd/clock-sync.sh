#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 12, corner 6: a Pi boots with no real-time clock. Until the kernel
# says the clock is synchronised, streamerd mints no JWT (one minted from a
# wrong clock is refused, and two refusals end the process); it
# logs the wait once, stays up, and streams as soon as NTP has set the
# clock. The clock is faked from outside by tests/fakeclock's preload: two
# hours ahead (behind, the emulator's fresh certificate would not be valid
# yet and TLS would fail before any JWT is looked at).
set -u
. "$TOP/tests/lib/harness.sh"

need_built "$BUILD/lib/fakeclock.so"
start_emu --commit-lag-ms 100
streamerd_conf jwt '"channel_name": "boot", "clock_sync_wait_s": 60'
start_fake_sensord -n 20
printf 'synced 0\noffset_ns 7200000000000\n' >"$T/clock"
watch_log "$STREAMERD_LOG"
# shellcheck disable=SC2153 # STREAMERD_BIN: tests/lib/streamerd.sh
LD_PRELOAD=$BUILD/lib/fakeclock.so FAKECLOCK_FILE=$T/clock \
	ASAN_OPTIONS=${DAEMON_ASAN:+$DAEMON_ASAN:}verify_asan_link_order=0 \
	"$STREAMERD_BIN" -d -f "$STREAMERD_CONF" >>"$STREAMERD_LOG" 2>&1 &
STREAMERD_PID=$!
track "$STREAMERD_PID" streamerd
sleep 3
alive "$STREAMERD_PID" || fail "streamerd gave up while the clock was not synchronised"
AUTH='' req GET /_emu/stats
printf '%s' "$BODY" | python3 -c '
import json, sys
r = json.load(sys.stdin)["requests"]
n = sum(sum(r.get(k, {}).values()) for k in ("hostname", "token", "open"))
sys.exit(f"{n} requests signed with an unsynchronised clock" if n else 0)' || fail "a JWT before the clock was set"
grep -q "the clock is not synchronised yet" "$STREAMERD_LOG" || fail "the wait was not logged"
[ "$(grep -c "not synchronised yet" "$STREAMERD_LOG")" -eq 1 ] || fail "the wait was logged more than once"
# NTP steps the clock and the kernel says it is synchronised
printf 'synced 1\noffset_ns 0\n' >"$T/clock.new" && mv "$T/clock.new" "$T/clock"
wait_acked 20 30
grep -q "the clock is synchronised (after" "$STREAMERD_LOG" || fail "the end of the wait was not logged"
stop_streamerd
stop_fake_sensord
check_table 20
echo "ok: no JWT before the clock was synchronised, then 20 records"
