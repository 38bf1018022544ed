#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The contract the systemd units rely on (Type=notify, WatchdogSec=):
# started with NOTIFY_SOCKET, each daemon sends READY=1 once it is ready
# and then WATCHDOG=1 while it makes progress — sensord while it journals
# records, streamerd while commits advance. Checked with a datagram socket
# standing in for systemd's, with sensord on the fake chips and streamerd
# streaming to the emulator.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd python3

cat >"$T/steady.json" <<'EOF'
{ "scd4x": { "co2": 700, "t": 22.0, "rh": 40.0 }, "sgp30": { "eco2": 400, "tvoc": 5 },
  "icp10125": { "p": 100600.0, "t": 21.5 } }
EOF
sandbox_emu --commit-lag-ms 200
sandbox_configs "$T/steady.json" 500

# sensord
notify_socket "$T/sensord.notify" "$T/sensord.msgs" 8
NOTIFY_SOCKET=$T/sensord.notify
export NOTIFY_SOCKET
watch_log "$T/sensord.log"
# shellcheck disable=SC2086 # the wrapper is a word list
ASAN_OPTIONS=$DAEMON_ASAN $SENSORD_WRAPPER "$SENSORD_BIN" -d -f "$T/conf/sensord.json" >"$T/sensord.log" 2>&1 &
spid=$!
track $spid sensord
unset NOTIFY_SOCKET
sensord_answers() { "$SENSORTAP_BIN" -s "$SENSORD_SOCK" --status >/dev/null 2>&1; }
poll 10 sensord_answers || true # the notifications below say what went wrong

# streamerd, once sensord answers
notify_socket "$T/streamerd.notify" "$T/streamerd.msgs" 7
watch_log "$T/streamerd.log"
NOTIFY_SOCKET=$T/streamerd.notify ASAN_OPTIONS=$DAEMON_ASAN \
	"$STREAMERD_BIN" -d -f "$T/conf/streamerd.json" >"$T/streamerd.log" 2>&1 &
tpid=$!
track $tpid streamerd
sleep 7.5

echo "--- sensord's notifications"
cat "$T/sensord.msgs"
echo "--- streamerd's notifications"
cat "$T/streamerd.msgs"

grep -q ' READY=1$' "$T/sensord.msgs" || fail "sensord sent no READY=1"
n=$(grep -c ' WATCHDOG=1$' "$T/sensord.msgs")
[ "$n" -ge 3 ] || fail "sensord sent $n WATCHDOG=1 in 8 s"
first_ready=$(grep ' READY=1$' "$T/sensord.msgs" | head -n 1 | cut -d' ' -f1)
first_wd=$(grep ' WATCHDOG=1$' "$T/sensord.msgs" | head -n 1 | cut -d' ' -f1)
if [ -n "$first_ready" ] && [ -n "$first_wd" ] &&
	awk -v r="$first_ready" -v w="$first_wd" 'BEGIN { exit !(w < r) }'; then
	fail "sensord fed the watchdog before READY=1"
fi

if ! grep -q '^Type=notify$' "$TOP/config/systemd/streamerd.service"; then
	echo "sd_notify: sensord OK; streamerd.service is not Type=notify, so streamerd need not notify"
	exit 0
fi
grep -q NOTIFY_SOCKET "$STREAMERD_BIN" ||
	fail "streamerd.service is Type=notify, but streamerd does not implement sd_notify: its start would time out"
grep -q ' READY=1$' "$T/streamerd.msgs" || fail "streamerd sent no READY=1"
n=$(grep -c ' WATCHDOG=1$' "$T/streamerd.msgs")
[ "$n" -ge 2 ] || fail "streamerd sent $n WATCHDOG=1 in 7 s while committing"
rows=$(table_rows)
[ "$rows" -gt 0 ] || fail "no rows committed: streamerd's watchdog was fed without progress"

# Both stop cleanly on SIGTERM, as systemd stops them.
stop_pid "$tpid" streamerd
stop_pid "$spid" sensord
echo "sd_notify: READY=1 and WATCHDOG=1 from both daemons ($rows rows committed meanwhile)"
