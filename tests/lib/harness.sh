# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh
# harness.sh: the one library every integration test sources first,
#
#     . "$TOP/tests/lib/harness.sh"
#
# (tests/run-tests sets TOP, the repository, and BUILD, the build directory).
# It loads the component libraries beside it, which only define functions
# until a test calls them:
#   emu.sh       the Snowpipe emulator: start_emu, HTTP requests, the table
#   sensord.sh   sensord on the fake chips: start_sensord, its status
#   streamerd.sh streamerd and fake-sensord: start_streamerd, acks, check_table
#   sandbox.sh   a whole installation run by scripts/supervise (ops, demo)
# and gives every test:
#   $T                 a scratch directory, mode 0755 (sensord may run as
#                      nobody), removed at exit; KEEP=1 keeps it
#   fail MESSAGE       "FAIL: MESSAGE", the tail of each watched log, exit 1
#   skip REASON        exit 77 (tests/run-tests shows REASON)
#   need_cmd TOOL...   skip unless each tool is installed
#   need_root          skip unless running as root
#   need_built FILE... fail unless each build product exists (make tests)
#   expect_eq ACTUAL EXPECTED WHAT
#   poll SECONDS CMD...          CMD every 0.1 s until it succeeds; 1 after SECONDS
#   wait_for SECONDS WHAT CMD... poll, or fail "gave up after SECONDS s waiting for WHAT"
#   track PID NAME     SIGKILL PID at exit if it still runs
#   stop_pid PID NAME [SECONDS [STATUS]]  SIGTERM; fail unless it exits
#                      within SECONDS (10) with STATUS (0; "any" for any)
#   wait_exit PID NAME [SECONDS]  PID's exit status once it ends by itself;
#                      fail unless that is within SECONDS (30)
#   kill_pid PID       SIGKILL and reap
#   watch_log FILE     tail FILE when the test fails
#   notify_socket SOCKET OUT [SECONDS]  a stand-in for systemd's notify
#                      socket: each message as "<monotonic s> <line>" in OUT
#                      for SECONDS (60) or until STOPPING=1; sets NOTIFY_PID
#   at_exit COMMAND    run COMMAND at exit (last registered first), before
#                      the tracked processes are killed and $T removed
#   $DAEMON_ASAN       ASAN_OPTIONS for a daemon that runs inside its seccomp
#                      sandbox (see below)
# Nothing here waits without a bound, and everything started is stopped.
# (Variables set here are read by the tests; some arguments are optional.)
# shellcheck disable=SC2034,SC2120

: "${TOP:?TOP must point at the repository: run the test through tests/run-tests}"
: "${BUILD:?BUILD must point at the build directory: run the test through tests/run-tests}"
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
BIN=$BUILD/bin

# Sanitizer builds (make check SAN=1): both daemons exit from inside their
# seccomp filters, where LeakSanitizer's exit-time check cannot work (its
# tracer thread is refused ptrace, and in streamerd getppid too, which
# leaves the process spinning at exit with SIGTERM blocked). So only a
# daemon that runs sandboxed gets DAEMON_ASAN (detect_leaks=0); every
# command that exits before the sandbox (usage, -n, --check,
# --verify-journal, the test tools) keeps leak checking, as do the unit tests.
DAEMON_ASAN=${ASAN_OPTIONS:-}
if [ "${SAN:-}" = 1 ]; then
	DAEMON_ASAN="${DAEMON_ASAN:+$DAEMON_ASAN:}detect_leaks=0"
fi

# Lists kept by the harness, one entry per line.
nl='
'
_h_pids=""	# "PID NAME" of tracked processes
_h_logs=""	# files to tail on failure
_h_hooks=""	# at_exit commands, newest first
_h_done=0
_h_failed=0

fail() {
	echo "FAIL: $*"
	_h_failed=1
	_h_tail_logs
	exit 1
}

skip() {
	echo "$*"
	exit 77
}

_h_tail_logs() {
	_tl_ifs=$IFS
	IFS=$nl
	for _tl_f in $_h_logs; do
		[ -s "$_tl_f" ] || continue
		echo "--- ${_tl_f#"$T"/} (last 30 lines)"
		tail -n 30 "$_tl_f"
	done
	IFS=$_tl_ifs
}

need_cmd() {
	for _nc in "$@"; do
		command -v "$_nc" >/dev/null 2>&1 || skip "$_nc is not installed (make deps)"
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

need_built() {
	for _nb in "$@"; do
		[ -e "$_nb" ] || fail "$_nb is not built (make tests)"
	done
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

now_ms() {
	date +%s%3N
}

# poll SECONDS CMD...: runs CMD every 0.1 s until it succeeds (status 0) or
# SECONDS (a decimal) have passed (status 1). CMD may be a shell function.
poll() {
	_p_end=$(($(now_ms) + $(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -lt "$_p_end" ] || return 1
		sleep 0.1
	done
}

# wait_for SECONDS WHAT CMD...: poll, and fail naming WHAT when time runs out.
wait_for() {
	_wf_s=$1 _wf_what=$2
	shift 2
	poll "$_wf_s" "$@" || fail "gave up after $_wf_s s waiting for $_wf_what"
}

# alive PID: the process exists and is not a zombie.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" != Z ]
}

track() {
	_h_pids="$1 $2$nl$_h_pids"
}

untrack() {
	_h_pids=$(printf '%s\n' "$_h_pids" | grep -v "^$1 " || true)
}

watch_log() {
	case "$nl$_h_logs$nl" in *"$nl$1$nl"*) return 0 ;; esac
	_h_logs="$_h_logs$1$nl"
}

at_exit() {
	_h_hooks="$1$nl$_h_hooks"
}

# stop_pid PID NAME [SECONDS [STATUS]]: SIGTERM, then waits at most SECONDS
# (default 10) for PID to exit; a process still there is killed and the
# test fails. Fails too unless the exit status is STATUS (default 0; "any"
# accepts every status). The status is left in $stopped_status.
stop_pid() {
	_sp_pid=$1 _sp_name=$2 _sp_secs=${3:-10} _sp_want=${4:-0}
	untrack "$_sp_pid"
	if ! kill -TERM "$_sp_pid" 2>/dev/null; then
		stopped_status=0
		wait "$_sp_pid" 2>/dev/null || stopped_status=$?
		[ "$_sp_want" = any ] ||
			fail "$_sp_name (pid $_sp_pid) was gone before it was told to stop (status $stopped_status)"
		return 0
	fi
	if ! poll "$_sp_secs" _h_gone "$_sp_pid"; then
		grep -E '^(State|Sig)' "/proc/$_sp_pid/status" 2>/dev/null || true
		kill_pid "$_sp_pid"
		fail "$_sp_name (pid $_sp_pid) did not stop within $_sp_secs s of SIGTERM"
	fi
	stopped_status=0
	wait "$_sp_pid" 2>/dev/null || stopped_status=$?
	if [ "$_sp_want" != any ] && [ "$stopped_status" != "$_sp_want" ]; then
		fail "$_sp_name exited with status $stopped_status after SIGTERM, expected $_sp_want"
	fi
	return 0
}

_h_gone() {
	! alive "$1"
}

# wait_exit PID NAME [SECONDS]: waits at most SECONDS (default 30) for PID
# to end by itself and returns its exit status; one still running then is
# killed and the test fails.
wait_exit() {
	if ! poll "${3:-30}" _h_gone "$1"; then
		kill_pid "$1"
		fail "$2 (pid $1) did not finish within ${3:-30} s"
	fi
	untrack "$1"
	_we_rc=0
	wait "$1" 2>/dev/null || _we_rc=$?
	return "$_we_rc"
}

# kill_pid PID: SIGKILL and reap (a crash, as the tests inflict it).
kill_pid() {
	untrack "$1"
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

notify_socket() {
	need_cmd python3
	python3 - "$1" "$2" "${3:-60}" <<'PY' &
import os, socket, sys, time
path, out, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)  # a daemon may send after dropping its privileges
end = time.monotonic() + secs
with open(out, "a") as f:
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            lines = s.recv(4096).decode(errors="replace").split("\n")
        except socket.timeout:
            break
        for line in lines:
            if line:
                f.write("%.6f %s\n" % (time.monotonic(), line))
        f.flush()
        if "STOPPING=1" in lines:
            break
PY
	NOTIFY_PID=$!
	track "$NOTIFY_PID" notify-socket
	wait_for 5 "the notify socket $1" test -S "$1"
}

_h_cleanup() {
	_hc_rc=$?
	[ "$_h_done" = 1 ] && return 0
	_h_done=1
	set +e
	# An exit nobody explained: a command failed under set -e.
	if [ "$_hc_rc" != 0 ] && [ "$_hc_rc" != 77 ] && [ "$_h_failed" = 0 ]; then
		echo "FAIL: the test stopped with status $_hc_rc: a command failed (under set -e, see above)"
		_h_tail_logs
	fi
	trap '' INT TERM
	_hc_ifs=$IFS
	IFS=$nl
	set -f
	for _hc_cmd in $_h_hooks; do
		IFS=$_hc_ifs
		eval "$_hc_cmd" || true
		IFS=$nl
	done
	for _hc_p in $_h_pids; do
		kill -KILL "${_hc_p%% *}" 2>/dev/null
	done
	for _hc_p in $_h_pids; do
		wait "${_hc_p%% *}" 2>/dev/null
	done
	set +f
	IFS=$_hc_ifs
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/${T_PREFIX:-snowsense-test}.XXXXXX") || {
	echo "FAIL: mktemp"
	exit 1
}
chmod 0755 "$T"
trap _h_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# shellcheck source=tests/lib/emu.sh
. "$TOP/tests/lib/emu.sh"
# shellcheck source=tests/lib/sensord.sh
. "$TOP/tests/lib/sensord.sh"
# shellcheck source=tests/lib/streamerd.sh
. "$TOP/tests/lib/streamerd.sh"
# shellcheck source=tests/lib/sandbox.sh
. "$TOP/tests/lib/sandbox.sh"
