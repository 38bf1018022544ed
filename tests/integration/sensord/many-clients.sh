#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# 100 clients subscribed live and 10 replaying from the oldest record at
# the same time: each gets its records consecutively, none is refused (all
# from one uid, so its cap is raised from the default 32).
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf '"max_clients_per_uid": 120, "journal": {"fsync": "never"},'

start_sensord --interval 0.05
wait_sensord last_seq 60
"$BIN/sdclient" -s "$SENSORD_SOCK" many 100 10 40 >"$T/many" 2>&1 || fail "$(cat "$T/many")"
grep -q '^ok clients=110 records_each=40$' "$T/many" || fail "$(cat "$T/many")"
grep -q 'refused client' "$SENSORD_LOG" && fail "a client was refused"
stop_sensord
echo "ok"
