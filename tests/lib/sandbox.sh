# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh
# sandbox.sh: a complete, throw-away snowsense installation in $T, run by
# scripts/supervise, for the ops tests and scripts/demo. Sourced by
# harness.sh. Nothing here is used in production; it only wires the real
# binaries together:
#   sandbox_emu [EMU OPTIONS]  the emulator (emu.sh) with the agreed world,
#               the streamer's key pair made by config/snowflake/keys.sh as
#               a user makes it ($STREAMER_KEY = $T/streamer.p8, its
#               fingerprint in $SANDBOX_FINGERPRINT)
#   sandbox_configs SCENARIO [INTERVAL_MS]  $T/conf/sensord.json and
#               streamerd.json pointing at it, and the environment that makes
#               supervise run sensord under the fake chips of SCENARIO; the
#               control file $T/chips.ctl changes the chips while it runs.
#               $SB_SENSORD_FILTER (a system call list) runs sensord inside
#               tests/ops' ops-sysfilter, as its unit's SystemCallFilter= would
#   supervise ARGS...  scripts/supervise -c $T/conf ARGS (logs in $T/log,
#               its pid files in $T/run/supervise); at exit, supervise stop
# sensord's socket, state and metrics are sensord.sh's $SENSORD_SOCK,
# $SENSORD_STATE and $SENSORD_METRICS; the table is emu.sh's.
# (Variables set here are read by the tests; some arguments are optional.)
# shellcheck disable=SC2034,SC2120

SUPERVISE=$TOP/scripts/supervise
SANDBOX_FINGERPRINT=""

sandbox_emu() {
	need_cmd openssl sqlite3
	if [ -z "$SANDBOX_FINGERPRINT" ]; then
		STREAMER_KEY=$T/streamer.p8
		"$TOP/config/snowflake/keys.sh" -o "$T" -n streamer -u STREAMER >"$T/keys.out" 2>&1 ||
			fail "keys.sh: $(cat "$T/keys.out")"
		SANDBOX_FINGERPRINT=$(tail -n 1 "$T/keys.out")
	fi
	start_emu "$@"
}

sandbox_configs() {
	_sb_scenario=$1
	[ -r "$_sb_scenario" ] || fail "no scenario $_sb_scenario"
	[ -n "$URL" ] || fail "sandbox_configs before sandbox_emu: no emulator to point streamerd at"
	need_built "$BIN/sensord" "$BIN/streamerd" "$BIN/sensortap" "$BUILD/lib/fakei2c.so"
	mkdir -p "$T/conf" "$T/run" "$SENSORD_STATE" "$T/log"
	chmod 0755 "$T/conf" "$T/run"
	# As root, sensord runs as nobody (the fake bus needs no privilege, as
	# the real one needs none under the systemd unit).
	[ "$(id -u)" = 0 ] && chown "$RUN_USER:$RUN_GROUP" "$T/run" "$SENSORD_STATE"
	# supervise runs streamerd as this user, the one sensord lets ack
	STREAMERD_USER=root
	[ "$(id -u)" = 0 ] || STREAMERD_USER=$(id -un)
	cat >"$T/conf/sensord.json" <<EOF
{
  "_comment": "snowsense sandbox: sensord on fake chips, everything under $T",
  "bus": "/dev/i2c-1",
  "device": "demo-pi",
  "interval_ms": ${2:-2000},
  "socket": "$SENSORD_SOCK",
  "state_dir": "$SENSORD_STATE",
  "user": "$RUN_USER",
  "group": "$RUN_GROUP",
  "metrics_file": "$SENSORD_METRICS",
  "streamer_user": "$STREAMERD_USER",
  "journal": { "fsync": "always" }
}
EOF
	cat >"$T/conf/streamerd.json" <<EOF
{
  "_comment": "snowsense sandbox: streamerd to the local Snowpipe emulator at $URL",
  "account": "EMUACCT",
  "user": "STREAMER",
  "private_key_file": "$STREAMER_KEY",
  "database": "DEMO_DB",
  "schema": "DEMO_SCHEMA",
  "pipe": "THERMAL_SENSOR_PIPE",
  "channel_name": "demo-pi",
  "account_url": "$URL",
  "ca_file": "$EMU_CA",
  "socket": "$SENSORD_SOCK",
  "sensord_user": "$RUN_USER",
  "flush_interval_ms": 1000,
  "commit_poll_ms": 500,
  "_comment_clock": "the emulator checks JWTs against this machine's clock: no NTP wait",
  "clock_sync_wait_s": 0,
  "_comment_hold": "nor a hold of records taken before a sync that may never come here",
  "unsynced_hold_s": 0,
  "metrics_file": "$T/run/streamerd.prom"
}
EOF
	: >"$T/chips.ctl"
	chmod 0644 "$T/chips.ctl"
	_sb_wc=$WITH_CHIPS
	SENSORD_BIN=$BIN/sensord
	FAKEI2C_LIB=${FAKEI2C_LIB:-$BUILD/lib/fakei2c.so}
	_sb_filter=""
	if [ -n "${SB_SENSORD_FILTER:-}" ]; then
		need_built "$BIN/ops-sysfilter"
		_sb_filter="$BIN/ops-sysfilter $SB_SENSORD_FILTER -- "
	fi
	if [ "$(id -u)" = 0 ]; then
		# sensord, run as nobody, must reach its files: copies here.
		mkdir -p "$T/bin"
		cp "$BIN/sensord" "$_sb_wc" "$FAKEI2C_LIB" "$_sb_scenario" "$T/bin/"
		if [ -n "$_sb_filter" ]; then
			cp "$BIN/ops-sysfilter" "$SB_SENSORD_FILTER" "$T/bin/"
			_sb_filter="$T/bin/ops-sysfilter $T/bin/$(basename "$SB_SENSORD_FILTER") -- "
		fi
		chmod 0755 "$T/bin" "$T/bin/"*
		_sb_wc=$T/bin/with-chips
		SENSORD_BIN=$T/bin/sensord
		FAKEI2C_LIB=$T/bin/$(basename "$FAKEI2C_LIB")
		_sb_scenario=$T/bin/$(basename "$_sb_scenario")
		SENSORD_WRAPPER="setpriv --reuid=$RUN_USER --regid=$RUN_GROUP --clear-groups -- "
	else
		SENSORD_WRAPPER=""
	fi
	SENSORD_WRAPPER="$SENSORD_WRAPPER$_sb_filter$_sb_wc $_sb_scenario --control $T/chips.ctl --"
	SUPERVISE_RUNDIR=$T/run/supervise
	SUPERVISE_LOGDIR=$T/log
	SENSORTAP_BIN=$BIN/sensortap
	STREAMERD_BIN=$BIN/streamerd
	export SENSORD_WRAPPER STREAMERD_USER SUPERVISE_RUNDIR SUPERVISE_LOGDIR \
		SENSORTAP_BIN SENSORD_BIN STREAMERD_BIN BUILD FAKEI2C_LIB
	for _sb_l in supervise sensord streamerd; do
		watch_log "$T/log/$_sb_l.log"
	done
	at_exit _sandbox_stop
}

# supervise ARGS: the daemons it starts run with $DAEMON_ASAN.
supervise() {
	ASAN_OPTIONS=$DAEMON_ASAN "$SUPERVISE" -c "$T/conf" "$@"
}

_sandbox_stop() {
	[ -d "$T/conf" ] && supervise stop >/dev/null 2>&1
	return 0
}
