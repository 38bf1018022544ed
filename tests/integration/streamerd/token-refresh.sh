#!/bin/sh
# Scoped tokens that live only a few seconds are renewed before they expire:
# over a run several times their lifetime, every append and status call is
# accepted (no 401 at all), new tokens are fetched along the way, and the
# stream stays exactly once. Meanwhile streamerd tells systemd (a datagram
# socket standing in for it) READY=1 once streaming, WATCHDOG=1 while
# commits advance, and STOPPING=1 at the end.
set -u
. "$TOP/tests/lib/harness.sh"
emu_pki # the keys and the world, edited below

sed 's/"scoped_token_ttl_s": [0-9]*/"scoped_token_ttl_s": 4/' "$T/thermal.json" > "$T/short.json"
grep -q '"scoped_token_ttl_s": 4' "$T/short.json" || fail "could not shorten the token ttl"
EMU_WORLD=$T/short.json start_emu --commit-lag-ms 100
streamerd_conf jwt
start_fake_sensord -n 20 -r 20 -m 300
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as f:
    while True:
        m = s.recv(4096).decode()
        f.write(m + "\n"); f.flush()
        if m == "STOPPING=1":
            break
' "$T/notify.sock" "$T/notify.msgs" &
NP=$!
track $NP notify-listener
sleep 0.3
NOTIFY_SOCKET=$T/notify.sock start_streamerd
wait_acked 300 40
stop_streamerd
wait_exit $NP notify-listener 70 || fail "the notify listener failed"
stop_fake_sensord
check_table 300
[ "$(head -n 1 "$T/notify.msgs")" = READY=1 ] || fail "first notification: $(head -n 1 "$T/notify.msgs")"
[ "$(tail -n 1 "$T/notify.msgs")" = STOPPING=1 ] || fail "last notification: $(tail -n 1 "$T/notify.msgs")"
wd=$(grep -c '^WATCHDOG=1$' "$T/notify.msgs")
[ "$wd" -ge 4 ] || fail "only $wd WATCHDOG=1 in a 15 s run"
tokens=$(grep -c "scoped token obtained" "$STREAMERD_LOG")
[ "$tokens" -ge 3 ] || fail "only $tokens scoped token(s) in a 15 s run with 4 s tokens"
! grep -q "HTTP 401" "$STREAMERD_LOG" || fail "a request was refused: the token was not renewed in time"
echo "ok: $tokens scoped tokens, renewed before expiry, 300 records exactly once; READY, $wd WATCHDOG, STOPPING"
