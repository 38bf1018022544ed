#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 13, item 5: a committed offset token ahead of sensord's journal (a
# restored SD card: same journal, fewer records) is an alarm, never a skip.
# streamerd must stop with exit 4 and a message naming the token and the
# way out, acking nothing, instead of waiting for the journal to pass the
# token and silently skipping what lies below it.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100
streamerd_conf jwt '"channel_name": "restored"'
start_fake_sensord -n 200
start_streamerd
wait_acked 200 30
stop_streamerd
stop_fake_sensord
# the card is restored from an older image: 50 records, the journal goes on
rm -f "$FAKE_SENSORD_STATE"
start_fake_sensord -n 50 -r 20
: >"$STREAMERD_LOG"
start_streamerd
rc=0
wait_exit "$STREAMERD_PID" streamerd 30 || rc=$?
STREAMERD_PID=""
[ "$rc" -eq 4 ] || fail "exit $rc, expected 4"
grep -q "is ahead of sensord's journal" "$STREAMERD_LOG" || fail "the alarm does not say the token is ahead"
grep -q -- "--accept-committed-token" "$STREAMERD_LOG" || fail "the alarm does not give the way out"
[ "$(acked)" -eq 0 ] || fail "acked $(acked) of the restored journal"
stop_fake_sensord
echo "ok: a token ahead of the journal stops streamerd (exit 4), nothing acked"
