#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/supervise's own behaviour, independent of the daemons' progress:
# the daemons are replaced (SENSORD_BIN/STREAMERD_BIN) by a stand-in program
# that crashes, exits with a config error, or ignores SIGTERM on request.
# Checks: start order and readiness wait, restart with back-off 1-2-4 s and
# reset after a stable run, no hot loop on exit 3, `restart streamerd` leaves
# sensord's process alone, stop escalates SIGTERM to SIGKILL, status
# reports pid/restarts/last exit and the configuration error in the
# daemon's own words, start while running says so once and starts nothing,
# help works without a configuration directory, and nothing is left
# running. (Each daemon's state from the pipeline's figures:
# supervise-status.sh.)
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd python3

stop_all() {
	"$SUPERVISE" -c "$T/conf" stop >/dev/null 2>&1
	for f in "$T"/conf/run/*.pid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
}
at_exit stop_all
watch_log "$T/conf/log/supervise.log"

# The stand-in daemon: behaves as its control file says, checked every
# 50 ms: "crash" (SIGKILL itself), a number (exit with it), "ignore-term".
# sensord's stand-in also listens on the socket path from its config, so
# supervise's readiness wait has something to connect to.
cat >"$T/standin" <<'EOF'
#!/bin/sh
name=$(basename "$STANDIN_DIR/$1")
conf=$3
me=sensord
case $conf in *streamerd.json) me=streamerd ;; esac
ctl=$STANDIN_DIR/$me.ctl
echo "$me stand-in pid $$ args $*"
echo "$$" >>"$STANDIN_DIR/$me.starts"
trap 'echo "$me: SIGTERM"; [ -f "$ctl" ] && [ "$(cat "$ctl")" = ignore-term ] || exit 0' TERM
if [ $me = sensord ]; then
	# exits with its parent, even when the parent is SIGKILLed
	python3 -c 'import os,socket,sys,time
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
while os.getppid() == int(sys.argv[2]): time.sleep(0.1)
os.unlink(sys.argv[1])' "$STANDIN_DIR/sock" $$ &
	sockpid=$!
	trap 'kill $sockpid 2>/dev/null; rm -f "$STANDIN_DIR/sock"' EXIT
fi
: "$name"
while :; do
	if [ -f "$ctl" ]; then
		case $(cat "$ctl") in
		crash) rm -f "$ctl"; kill -KILL $$ ;;
		[0-9]*) c=$(cat "$ctl"); rm -f "$ctl"
			# what a daemon says of a bad configuration, as it says it
			echo "$(date -u +%Y-%m-%dT%H:%M:%S.000Z) $me[err] $conf: \"flush_interval_ms\": expected milliseconds, got \"soon\""
			exit "$c" ;;
		esac
	fi
	sleep 0.05
done
EOF
chmod +x "$T/standin"
mkdir -p "$T/conf"
printf '{\n  "socket": "%s/sock"\n}\n' "$T" >"$T/conf/sensord.json"
printf '{\n  "metrics_file": "%s/streamerd.prom"\n}\n' "$T" >"$T/conf/streamerd.json"
export STANDIN_DIR="$T" SENSORD_BIN="$T/standin" STREAMERD_BIN="$T/standin" \
	SENSORTAP_BIN=/nonexistent STREAMERD_USER=root SUPERVISE_STABLE=4 \
	SUPERVISE_STOP_TIMEOUT=2 SUPERVISE_SETTLE=0.5
S() { "$SUPERVISE" -c "$T/conf" "$@"; }
starts() { if [ -f "$T/$1.starts" ]; then wc -l <"$T/$1.starts" | tr -d ' '; else echo 0; fi; }
pidof_() { cat "$T/conf/run/$1.pid" 2>/dev/null; }
wait_starts() { # NAME COUNT TIMEOUT_TENTHS
	i=0
	while [ "$(starts "$1")" -lt "$2" ] && [ $i -lt "$3" ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(starts "$1")" -ge "$2" ]
}

# ---- help, without a configuration directory
for h in help --help -h; do
	"$SUPERVISE" -c "$T/none" $h >"$T/help" 2>&1 || fail "supervise $h: exit $?"
	grep -q '^usage: supervise' "$T/help" || fail "supervise $h: $(cat "$T/help")"
done
grep -q 'status \[-w' "$T/help" || fail "help does not show status -w"

# ---- start: both up, sensord first
out=$(S start 2>&1) || fail "start failed: $out"
echo "$out"
[ "$(starts sensord)" = 1 ] || fail "sensord started $(starts sensord) times"
[ "$(starts streamerd)" = 1 ] || fail "streamerd started $(starts streamerd) times"
[ -S "$T/sock" ] || fail "sensord stand-in socket missing after start"
st=$(S status) || fail "status exited $? with both running"
echo "$st"
echo "$st" | grep -A1 "^sensord " | grep -q "^ *pid $(pidof_ sensord), up " || fail "status lacks sensord pid"
echo "$st" | grep -A1 "^streamerd " | grep -q "^ *pid $(pidof_ streamerd), up " ||
	fail "status lacks streamerd pid"

# ---- start while running: said once per daemon, nothing started
out=$(S start 2>&1) || fail "start while running failed: $out"
echo "$out"
said=$(echo "$out" | sed 's/: already running (pid [0-9]*, up [0-9].*)$//' | tr '\n' ' ')
[ "$said" = "sensord streamerd " ] || fail "start while running said: $out"
[ "$(starts sensord)$(starts streamerd)" = 11 ] || fail "start while running started again"

# ---- crashes: restarted after 1, 2, 4 s
sensord_pid=$(pidof_ sensord)
t0=$(date +%s)
echo crash >"$T/streamerd.ctl"
wait_starts streamerd 2 100 || fail "streamerd not restarted within 10 s of crash 1"
echo crash >"$T/streamerd.ctl"
wait_starts streamerd 3 120 || fail "streamerd not restarted within 12 s of crash 2"
echo crash >"$T/streamerd.ctl"
wait_starts streamerd 4 150 || fail "streamerd not restarted within 15 s of crash 3"
t1=$(date +%s)
# 1 + 2 + 4 s of back-off at least (1 s clock granularity)
[ $((t1 - t0)) -ge 6 ] || fail "three restarts took $((t1 - t0)) s, back-off needs >= 7"
delays=$(sed -n 's/.*streamerd: restarting in \([0-9]*\)s$/\1/p' "$T/conf/log/supervise.log" | tr '\n' ' ')
[ "$delays" = "1 2 4 " ] || fail "back-off delays were '$delays', want '1 2 4 '"
st=$(S status)
echo "$st"
echo "$st" | grep -A1 '^streamerd' | grep -q 'restarts 3, last exit 137 (signal KILL)' ||
	fail "status does not show 3 restarts and the SIGKILL exit"
[ "$(pidof_ sensord)" = "$sensord_pid" ] || fail "sensord restarted while streamerd crashed"

# ---- stable run resets the back-off (SUPERVISE_STABLE=4)
sleep 5
echo crash >"$T/streamerd.ctl"
wait_starts streamerd 5 100 || fail "streamerd not restarted after a stable run"
last=$(sed -n 's/.*streamerd: restarting in \([0-9]*\)s$/\1/p' "$T/conf/log/supervise.log" | tail -n 1)
[ "$last" = 1 ] || fail "delay after a stable run was ${last}s, want 1"

# ---- restart streamerd leaves sensord's process alone
S restart streamerd || fail "restart streamerd failed"
[ "$(starts streamerd)" = 6 ] || fail "restart streamerd: $(starts streamerd) starts, want 6"
[ "$(pidof_ sensord)" = "$sensord_pid" ] || fail "restart streamerd touched sensord"
[ "$(starts sensord)" = 1 ] || fail "sensord started again during restart streamerd"

# ---- config error: reported, not retried
echo 3 >"$T/streamerd.ctl"
sleep 3
[ "$(starts streamerd)" = 6 ] || fail "exit 3 was retried ($(starts streamerd) starts)"
st=$(S status)
echo "$st"
echo "$st" | grep -q '^streamerd  *stopped (configuration error: .*streamerd.json: "flush_interval_ms": expected milliseconds, got "soon"); fix it, then: supervise restart streamerd$' ||
	fail "status does not report the config error in streamerd's words"
echo "$st" | grep -A1 '^streamerd' | grep -q 'last exit 3 (configuration error)' || fail "status lacks exit 3"
[ "$(pidof_ sensord)" = "$sensord_pid" ] || fail "sensord affected by streamerd's config error"
# start after the fix runs it again
S start streamerd || fail "start streamerd after config error failed"
[ "$(starts streamerd)" = 7 ] || fail "streamerd not started after config error fixed"

# ---- a config error at start is reported by start itself
S stop >/dev/null
echo 3 >"$T/sensord.ctl"
# the stand-in reads its control file within 50 ms of starting
if out=$(S start 2>&1); then fail "start succeeded although sensord exited 3: $out"; fi
echo "$out"
echo "$out" | grep -q 'sensord.*3 (configuration error)' || fail "start did not name the config error"
[ "$(starts streamerd)" = 7 ] || fail "streamerd was started although sensord failed"
rm -f "$T/sensord.ctl"

# ---- stop: SIGTERM, then SIGKILL for a daemon that ignores it
S start >/dev/null || fail "second start failed"
echo ignore-term >"$T/sensord.ctl"
spid=$(pidof_ sensord)
t0=$(date +%s)
S stop || fail "stop failed"
t1=$(date +%s)
kill -0 "$spid" 2>/dev/null && fail "sensord stand-in $spid survived stop"
[ $((t1 - t0)) -ge 2 ] || fail "SIGKILL came after $((t1 - t0)) s, want the 2 s grace"
grep -q 'sensord: SIGTERM' "$T/conf/log/sensord.log" || fail "sensord never got SIGTERM"
rm -f "$T/sensord.ctl"

# ---- nothing left: no monitor, no daemon
sleep 0.5
# ps, not pgrep: zombies waiting for init to reap them do not count.
# shellcheck disable=SC2009
left=$(ps -eo pid=,stat=,args= | grep -v ' Z' | grep -F "$T" | grep -v grep || true)
[ -z "$left" ] || fail "processes left after stop: $left"
if st=$(S status); then fail "status exited 0 with nothing running"; fi
echo "$st"
echo "$st" | grep -q '^sensord .*stopped' || fail "status after stop: $st"
echo "supervise: all checks passed"
