# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh
# sensord.sh: the unmodified sensord on emulated chips, sourced by
# harness.sh. sensord runs under tests/fakei2c/with-chips, which preloads
# fakei2c.so so that its opens of /dev/i2c-1 reach the chip models of a
# scenario (tests/fakei2c/README.md).
#   sensord_conf [MEMBERS]  writes $SENSORD_CONF: device "itest" (unless
#                MEMBERS names one), state in
#                $SENSORD_STATE, socket $SENSORD_SOCK, metrics
#                $SENSORD_METRICS, user/group $RUN_USER/$RUN_GROUP (nobody
#                when the test runs as root), streamer_user $STREAMER_USER
#                (the user the tests run streamerd and sdclient as: root, or
#                the test's own user; unless MEMBERS names one), plus
#                MEMBERS: JSON members, each followed by a comma
#   start_sensord [ARGS]  sensord -f $SENSORD_CONF -d ARGS on the chips of
#                $CHIPS (default: all three chips, time_scale 20), with
#                with-chips options $CHIPS_OPTS (--stats F, --control F);
#                returns once its socket answers; sets SENSORD_PID. For a
#                special start: $SENSORD_ENV (VAR=value words for sensord
#                only), $SENSORD_PRELOAD (one more preload, after
#                fakei2c.so), $SENSORD_CMD_PREFIX (a command that execs
#                sensord, e.g. setpriv ...: the pid tracked must be sensord's)
#   stop_sensord   SIGTERM; it must exit 0 within 10 s
#   kill_sensord   SIGKILL
#   sensord_status KEY     one value of sdclient's status answer
#   wait_sensord KEY MIN [SECONDS]  until that value is >= MIN (20 s)
# $SENSORD_LOG (tailed when the test fails) collects every run's output.
# (Variables set here are read by the tests; some arguments are optional.)
# shellcheck disable=SC2034,SC2120

WITH_CHIPS=$TOP/tests/fakei2c/with-chips
SENSORD_CONF=$T/sensord.json
SENSORD_SOCK=$T/run/sensord.sock
SENSORD_STATE=$T/state
SENSORD_METRICS=$T/run/sensord.prom
SENSORD_LOG=$T/sensord.log
SENSORD_PID=""
CHIPS=$T/chips.json
CHIPS_OPTS=""
SENSORD_ENV=""
SENSORD_PRELOAD=""
SENSORD_CMD_PREFIX=""
if [ "$(id -u)" = 0 ]; then
	RUN_USER=nobody
	RUN_GROUP=$(id -gn nobody)
else
	RUN_USER=$(id -un)
	RUN_GROUP=$(id -gn)
fi
STREAMER_USER=$(id -un)

# The socket's directory: sensord's user's alone, as sensord demands (it
# removes its socket there after dropping to $RUN_USER).
_sensord_dirs() {
	if [ ! -d "$T/run" ]; then
		mkdir -m 0755 "$T/run"
		[ "$(id -u)" != 0 ] || chown "$RUN_USER:$RUN_GROUP" "$T/run"
	fi
	[ -f "$T/chips.json" ] ||
		printf '{"time_scale": 20, "scd4x": {}, "sgp30": {}, "icp10125": {}}\n' >"$T/chips.json"
}

sensord_conf() {
	_sensord_dirs
	_sc_device='"device": "itest",'
	case ${1:-} in *'"device"'*) _sc_device="" ;; esac
	_sc_streamer="\"streamer_user\": \"$STREAMER_USER\","
	case ${1:-} in *'"streamer_user"'*) _sc_streamer="" ;; esac
	cat >"$SENSORD_CONF" <<JSON
{
	${1:-}
	$_sc_device
	$_sc_streamer
	"state_dir": "$SENSORD_STATE",
	"socket": "$SENSORD_SOCK",
	"metrics_file": "$SENSORD_METRICS",
	"user": "$RUN_USER",
	"group": "$RUN_GROUP"
}
JSON
}

start_sensord() {
	need_built "$BIN/sensord" "$BIN/sdclient" "$BUILD/lib/fakei2c.so"
	[ -f "$SENSORD_CONF" ] || sensord_conf
	_sensord_dirs
	watch_log "$SENSORD_LOG"
	# Word lists on purpose; $0 and $@ belong to the inner sh.
	# shellcheck disable=SC2086,SC2016
	env ASAN_OPTIONS="$DAEMON_ASAN" $SENSORD_ENV "$WITH_CHIPS" "$CHIPS" $CHIPS_OPTS -- \
		sh -c 'LD_PRELOAD="$LD_PRELOAD${0:+ $0}" exec "$@"' "$SENSORD_PRELOAD" \
		$SENSORD_CMD_PREFIX "$BIN/sensord" -f "$SENSORD_CONF" -d "$@" >>"$SENSORD_LOG" 2>&1 &
	SENSORD_PID=$!
	track "$SENSORD_PID" sensord
	wait_for 20 "sensord to answer on $SENSORD_SOCK" _sensord_up
}

_sensord_up() {
	[ -S "$SENSORD_SOCK" ] && "$BIN/sdclient" -s "$SENSORD_SOCK" status >/dev/null 2>&1 && return 0
	alive "$SENSORD_PID" || fail "sensord exited during start-up"
	return 1
}

stop_sensord() {
	[ -n "$SENSORD_PID" ] || fail "stop_sensord: no sensord started"
	stop_pid "$SENSORD_PID" sensord
	SENSORD_PID=""
}

kill_sensord() {
	[ -n "$SENSORD_PID" ] && kill_pid "$SENSORD_PID"
	SENSORD_PID=""
}

sensord_status() {
	"$BIN/sdclient" -s "$SENSORD_SOCK" status | sed -n "s/^$1=//p"
}

wait_sensord() {
	_ws_key=$1 _ws_min=$2 _ws_v=""
	poll "${3:-20}" _sensord_reached ||
		fail "sensord's status $_ws_key did not reach $_ws_min within ${3:-20} s (last: ${_ws_v:-none})"
}

_sensord_reached() {
	_ws_v=$(sensord_status "$_ws_key" 2>/dev/null || true)
	[ "${_ws_v:-0}" -ge "$_ws_min" ]
}
