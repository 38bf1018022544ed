#!/bin/sh
# Scoped tokens that live only a few seconds are renewed before they expire:
# over a run several times their lifetime, every append and status call is
# accepted (no 401 at all), new tokens are fetched along the way, and the
# stream stays exactly once.
. "$TOP/tests/streamerd/lib.sh"

sed 's/"scoped_token_ttl_s": [0-9]*/"scoped_token_ttl_s": 4/' "$T/thermal.json" > "$T/short.json"
grep -q '"scoped_token_ttl_s": 4' "$T/short.json" || sd_fail "could not shorten the token ttl"
EMU_CONFIG=$T/short.json emu_start --commit-lag-ms 100
sd_conf jwt
fs_start -n 20 -r 20 -m 300
sd_start
wait_acked 300 40
sd_stop
fs_stop
check_table 300
tokens=$(grep -c "scoped token obtained" "$T/sd.log")
[ "$tokens" -ge 3 ] || sd_fail "only $tokens scoped token(s) in a 15 s run with 4 s tokens"
! grep -q "HTTP 401" "$T/sd.log" || sd_fail "a request was refused: the token was not renewed in time"
echo "ok: $tokens scoped tokens, renewed before expiry, 300 records exactly once"
