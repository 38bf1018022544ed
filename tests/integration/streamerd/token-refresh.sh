#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Scoped tokens that live only a few seconds are renewed before they expire:
# over a run several times their lifetime, every append and status call is
# accepted (no 401 at all), new tokens are fetched along the way, and the
# stream stays exactly once. Meanwhile streamerd tells systemd (a datagram
# socket standing in for it) READY=1 once streaming, WATCHDOG=1 while
# commits advance, and STOPPING=1 at the end.
set -u
. "$TOP/tests/lib/harness.sh"

emu_world "$T/short.json" 's/"scoped_token_ttl_s": [0-9]*/"scoped_token_ttl_s": 4/'
EMU_WORLD=$T/short.json start_emu --commit-lag-ms 100
streamerd_conf jwt
start_fake_sensord -n 20 -r 20 -m 300
notify_socket "$T/notify.sock" "$T/notify.msgs" 60
NOTIFY_SOCKET=$T/notify.sock start_streamerd
wait_acked 300 40
stop_streamerd
wait_exit "$NOTIFY_PID" notify-socket 70 || fail "the notify socket stand-in failed"
stop_fake_sensord
check_table 300
first=$(head -n 1 "$T/notify.msgs" | cut -d' ' -f2-)
last=$(tail -n 1 "$T/notify.msgs" | cut -d' ' -f2-)
[ "$first" = READY=1 ] || fail "first notification: $first"
[ "$last" = STOPPING=1 ] || fail "last notification: $last"
wd=$(grep -c ' WATCHDOG=1$' "$T/notify.msgs")
[ "$wd" -ge 4 ] || fail "only $wd WATCHDOG=1 in a 15 s run"
tokens=$(grep -c "scoped token obtained" "$STREAMERD_LOG")
[ "$tokens" -ge 3 ] || fail "only $tokens scoped token(s) in a 15 s run with 4 s tokens"
! grep -q "HTTP 401" "$STREAMERD_LOG" || fail "a request was refused: the token was not renewed in time"
echo "ok: $tokens scoped tokens, renewed before expiry, 300 records exactly once; READY, $wd WATCHDOG, STOPPING"
