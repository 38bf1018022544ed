#!/bin/sh
# Outage: the service disappears (SIGKILL, uncommitted batches lost) while
# sensord keeps journaling; streamerd retries with back-off, records pile up
# in the journal (not in streamerd: its buffer is bounded), and when the
# service is back on the same database the backlog drains in offset order,
# exactly once, without ever tripping the 10 requests/s limit (no 429).
. "$TOP/tests/streamerd/lib.sh"

emu_start --commit-lag-ms 300
port=${HOST##*:}
sd_conf jwt "\"batch_max_rows\": 40"
fs_start -n 100 -r 80
sd_start
wait_acked 100 20
emu_kill9
before=$(acked)
sleep 6
[ "$(acked)" -eq "$before" ] || sd_fail "acks moved while the service was down"
grep -q "retrying" "$T/sd.log" || sd_fail "no retry logged during the outage"
kill -0 "$SD_PID" || sd_fail "streamerd died during the outage"
emu_start --commit-lag-ms 300 --listen "127.0.0.1:$port"
[ "${HOST##*:}" = "$port" ] || sd_fail "emulator came back on another port"
# stop journaling (sensord restart) so there is a fixed end to drain to
fs_stop
fs_start
backlog=$(( $(journaled) - before ))
[ $backlog -ge 300 ] || sd_fail "only $backlog records of backlog"
wait_acked "$(journaled)" 40
sd_stop
fs_stop
check_table "$(journaled)"
stats=$(curl -sS --cacert "$T/tls.crt" "$URL/_emu/stats")
echo "$stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
bad = {r: c for r, by in s["requests"].items() for c in by if c == "429"}
sys.exit("429 answers: %r" % bad if bad else 0)' || sd_fail "rate limit hit"
echo "ok: $backlog records of backlog drained in order after the outage"
