#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Outage: the service disappears (SIGKILL, uncommitted batches lost) while
# sensord keeps journaling; streamerd retries with back-off, records pile up
# in the journal (not in streamerd: its buffer is bounded), and when the
# service is back on the same database the backlog drains in offset order,
# exactly once, without ever tripping the 10 requests/s limit (no 429), and
# streamerd logs exactly one "recovered after N s; M rows caught up", M
# being the rows that landed in the table since the service went away.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 300
port=${HOST##*:}
streamerd_conf jwt "\"batch_max_rows\": 40"
start_fake_sensord -n 100 -r 80
start_streamerd
wait_acked 100 20
kill_emu
landed=$(sqlite3 "$EMU_DB" "SELECT coalesce(max(json_extract(RAW_DATA, '\$.seq')), 0) FROM THERMAL_SENSOR_DATA")
t_kill=$(date +%s)
before=$(acked)
sleep 6
[ "$(acked)" -eq "$before" ] || fail "acks moved while the service was down"
grep -q "retrying" "$STREAMERD_LOG" || fail "no retry logged during the outage"
kill -0 "$STREAMERD_PID" || fail "streamerd died during the outage"
start_emu --commit-lag-ms 300 --listen "127.0.0.1:$port"
[ "${HOST##*:}" = "$port" ] || fail "emulator came back on another port"
# stop journaling (sensord restart) so there is a fixed end to drain to
stop_fake_sensord
start_fake_sensord
backlog=$(( $(journaled) - before ))
[ $backlog -ge 300 ] || fail "only $backlog records of backlog"
wait_acked "$(journaled)" 40
recovered() { grep -q "recovered after" "$STREAMERD_LOG"; }
wait_for 5 "the recovered line" recovered
sleep 1
[ "$(grep -c "recovered after" "$STREAMERD_LOG")" = 1 ] ||
	fail "not one recovered line: $(grep "recovered after" "$STREAMERD_LOG")"
line=$(grep "recovered after" "$STREAMERD_LOG")
nm=$(recovered_nm "$line") n=${nm% *} m=${nm#* }
[ "$m" = $(($(journaled) - landed)) ] ||
	fail "$line: $(($(journaled) - landed)) rows landed since the outage began ($landed before)"
if [ "$n" -lt 6 ] || [ "$n" -gt $(($(date +%s) - t_kill)) ]; then
	fail "$line: the outage lasted at least 6 s, at most $(($(date +%s) - t_kill)) s"
fi
stop_streamerd
stop_fake_sensord
check_table "$(journaled)"
stats=$(curl -sS --cacert "$EMU_CA" "$URL/_emu/stats")
echo "$stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
bad = {r: c for r, by in s["requests"].items() for c in by if c == "429"}
sys.exit("429 answers: %r" % bad if bad else 0)' || fail "rate limit hit"
echo "ok: $backlog records of backlog drained in order after the outage; $line"
