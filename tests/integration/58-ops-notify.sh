#!/bin/sh
# The contract the systemd units rely on (Type=notify, WatchdogSec=):
# started with NOTIFY_SOCKET, each daemon sends READY=1 once it is ready
# and then WATCHDOG=1 while it makes progress — sensord while it journals
# records, streamerd while commits advance. Checked with a datagram socket
# standing in for systemd's, with sensord on the fake chips and streamerd
# streaming to the emulator.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$top/build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
for f in "$BUILD/bin/sensord" "$BUILD/bin/streamerd" "$BUILD/bin/sensortap" \
	"$BUILD/bin/snowpipe-emu" "$BUILD/lib/fakei2c.so" "$top/tests/fakei2c/with-chips"; do
	[ -e "$f" ] || { echo "$f not built yet"; exit 77; }
done
command -v python3 >/dev/null 2>&1 || { echo "python3 not installed (make deps)"; exit 77; }
# shellcheck source=scripts/ops-sandbox.sh
. "$top/scripts/ops-sandbox.sh"

tmp=$(mktemp -d)
chmod 0755 "$tmp"
fails=0
pids=""
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	# a daemon that ignores SIGTERM gets 10 s, then SIGKILL: never hang here
	i=0
	while [ $i -lt 100 ]; do
		alive=""
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
		[ -z "$alive" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for p in $pids; do
		if kill -0 "$p" 2>/dev/null; then
			echo "pid $p ignored SIGTERM for 10 s: SIGKILL"
			kill -KILL "$p" 2>/dev/null
		fi
	done
	for p in $pids; do wait "$p" 2>/dev/null; done
	sb_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

# listen SOCKET SECONDS OUT: records "<t> <message>" lines for SECONDS.
listen() {
	python3 - "$1" "$2" "$3" <<'EOF' &
import os, socket, sys, time
path, secs, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)  # sensord sends after dropping privileges
t0 = time.monotonic()
with open(out, "w") as f:
    while True:
        left = secs - (time.monotonic() - t0)
        if left <= 0:
            break
        s.settimeout(left)
        try:
            m = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            break
        for line in m.split("\n"):
            if line:
                f.write("%.3f %s\n" % (time.monotonic() - t0, line))
        f.flush()
EOF
	pids="$pids $!"
}

cat >"$tmp/chips.json" <<'EOF'
{ "scd4x": { "co2": 700, "t": 22.0, "rh": 40.0 }, "sgp30": { "eco2": 400, "tvoc": 5 },
  "icp10125": { "p": 100600.0, "t": 21.5 } }
EOF
sb_init "$tmp/sb"
sb_pki
sb_start_emu --commit-lag-ms 200
sb_configs "$tmp/chips.json" 500

# sensord
listen "$tmp/sensord.notify" 8 "$tmp/sensord.msgs"
sleep 0.3
NOTIFY_SOCKET=$tmp/sensord.notify
export NOTIFY_SOCKET
# shellcheck disable=SC2086 # the wrapper is a word list
$SENSORD_WRAPPER "$SENSORD_BIN" -d -f "$sb/conf/sensord.json" >"$tmp/sensord.log" 2>&1 &
spid=$!
pids="$pids $spid"
unset NOTIFY_SOCKET
i=0
until "$SENSORTAP_BIN" -s "$sb/run/sensord.sock" --status >/dev/null 2>&1 || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done

# streamerd, once sensord answers
listen "$tmp/streamerd.notify" 7 "$tmp/streamerd.msgs"
sleep 0.3
NOTIFY_SOCKET=$tmp/streamerd.notify "$STREAMERD_BIN" -d -f "$sb/conf/streamerd.json" >"$tmp/streamerd.log" 2>&1 &
pids="$pids $!"
sleep 7.5

echo "--- sensord's notifications"
cat "$tmp/sensord.msgs"
echo "--- streamerd's notifications"
cat "$tmp/streamerd.msgs"

grep -q ' READY=1$' "$tmp/sensord.msgs" || fail "sensord sent no READY=1"
n=$(grep -c ' WATCHDOG=1$' "$tmp/sensord.msgs")
[ "$n" -ge 3 ] || fail "sensord sent $n WATCHDOG=1 in 8 s"
first_ready=$(grep ' READY=1$' "$tmp/sensord.msgs" | head -n 1 | cut -d' ' -f1)
first_wd=$(grep ' WATCHDOG=1$' "$tmp/sensord.msgs" | head -n 1 | cut -d' ' -f1)
if [ -n "$first_ready" ] && [ -n "$first_wd" ] &&
	awk -v r="$first_ready" -v w="$first_wd" 'BEGIN { exit !(w < r) }'; then
	fail "sensord fed the watchdog before READY=1"
fi

if ! grep -q '^Type=notify$' "$top/config/systemd/streamerd.service"; then
	[ $fails -eq 0 ] || exit 1
	echo "sd_notify: sensord OK; streamerd.service is not Type=notify, so streamerd need not notify"
	exit 0
fi
if ! grep -q NOTIFY_SOCKET "$BUILD/bin/streamerd"; then
	[ $fails -eq 0 ] || exit 1
	echo "streamerd does not implement sd_notify yet (sensord's part passed): its unit's Type=notify would time out"
	exit 77
fi
grep -q ' READY=1$' "$tmp/streamerd.msgs" || fail "streamerd sent no READY=1"
n=$(grep -c ' WATCHDOG=1$' "$tmp/streamerd.msgs")
[ "$n" -ge 2 ] || fail "streamerd sent $n WATCHDOG=1 in 7 s while committing"
rows=$(sb_rows)
[ "$rows" -gt 0 ] || fail "no rows committed: streamerd's watchdog was fed without progress"

if [ $fails -ne 0 ]; then
	tail -n 20 "$tmp/sensord.log" "$tmp/streamerd.log"
	exit 1
fi
echo "sd_notify: READY=1 and WATCHDOG=1 from both daemons ($rows rows committed meanwhile)"
