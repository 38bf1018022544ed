#!/bin/sh
# 100 clients subscribed live and 10 replaying from the oldest record at
# the same time: each gets its records consecutively, none is refused.
. "$TOP/tests/integration/sensord-common.inc"
write_conf '"journal": {"fsync": "never"},'

start_sensord --interval 0.05
wait_for last_seq 60
"$bin/sdclient" -s "$sock" many 100 10 40 >"$dir/many" 2>&1 || fail "$(cat "$dir/many")"
grep -q '^ok clients=110 records_each=40$' "$dir/many" || fail "$(cat "$dir/many")"
grep -q 'refused client' "$dir/log" && fail "a client was refused"
stop_sensord
[ $rc -eq 0 ] || fail "stop: exit $rc"
echo "ok"
