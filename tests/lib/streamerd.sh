# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh
# streamerd.sh: streamerd against the emulator (emu.sh), fed by
# fake-sensord (tests/streamerd/fake-sensord.c: a scripted journal whose
# record values are a function of the seq) or by the real sensord
# (sensord.sh); both listen on $SENSORD_SOCK. Sourced by harness.sh.
#   streamerd_conf pat|jwt|jwtenc [MEMBERS]  writes $STREAMERD_CONF (mode
#               0600) for the started emulator with that credential kind
#               (jwtenc: the key encrypted, with a passphrase file), flush
#               and commit polls every 200 ms and no wait for NTP
#               (clock_sync_wait_s 0) and no hold of unsynced records
#               (unsynced_hold_s 0) unless MEMBERS sets them,
#               metrics to $STREAMERD_METRICS, sensord_user $RUN_USER
#               (sensord's user in these tests; fake-sensord runs as root,
#               which streamerd accepts too; unless MEMBERS names one), plus
#               MEMBERS (JSON members, comma-separated, no trailing comma)
#   start_streamerd [ARGS]  streamerd -d -f $STREAMERD_CONF ARGS in the
#               background, logging to $STREAMERD_LOG; sets STREAMERD_PID
#   stop_streamerd  SIGTERM once it is up; it must exit 0 within 5 s
#   kill_streamerd  SIGKILL
#   start_fake_sensord [OPTIONS]  -n INITIAL -r RATE_HZ -m MAX (see its source);
#               its journal id is $JOURNAL_ID
#   stop_fake_sensord
#   journaled, acked  the last seq fake-sensord journaled / got an ack for
#   wait_acked N SECONDS  until fake-sensord got the ack for N
#   check_table N [--values] [--at-least] [--device NAME]  the rows of
#               journal $JOURNAL_ID in the table are seqs 1..N, each once,
#               in order (tests/lib/check-table.py)
#   no_secrets FILE...  no PAT, JWT, key material or passphrase in FILE
#   recovered_nm LINE  "N M" of a "recovered after N s; M rows caught up" line
# (Variables set here are read by the tests; some arguments are optional.)
# shellcheck disable=SC2034,SC2120

STREAMERD_BIN=$BIN/streamerd
STREAMERD_CONF=$T/streamerd.json
STREAMERD_LOG=$T/streamerd.log
STREAMERD_METRICS=$T/streamerd.prom
STREAMERD_PID=""
JOURNAL_ID=5eed5eed00c0ffee
FAKE_SENSORD_PID=""
FAKE_SENSORD_LOG=$T/fake-sensord.log
FAKE_SENSORD_STATE=$T/fake-sensord.state
PASSPHRASE="correct horse battery"

streamerd_conf() {
	case $1 in
	pat) _sc_auth="\"pat\": \"$PAT\", \"user\": \"streamer\"" ;;
	jwt) _sc_auth="\"private_key_file\": \"$STREAMER_KEY\", \"user\": \"streamer\"" ;;
	jwtenc)
		printf '%s\n' "$PASSPHRASE" >"$T/passphrase"
		chmod 600 "$T/passphrase"
		_emu_openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$STREAMER_KEY" -out "$T/streamer-enc.p8" \
			-passout file:"$T/passphrase"
		chmod 600 "$T/streamer-enc.p8"
		_sc_auth="\"private_key_file\": \"$T/streamer-enc.p8\", \"private_key_passphrase_file\": \"$T/passphrase\", \"user\": \"streamer\""
		;;
	*) fail "streamerd_conf: unknown credential kind $1" ;;
	esac
	[ -n "$URL" ] || fail "streamerd_conf before start_emu: no URL to point streamerd at"
	# Fast flushes and commit polls, unless MEMBERS sets them.
	_sc_timing=""
	case ${2:-} in *'"flush_interval_ms"'*) ;; *) _sc_timing='"flush_interval_ms": 200, ' ;; esac
	case ${2:-} in *'"commit_poll_ms"'*) ;; *) _sc_timing=$_sc_timing'"commit_poll_ms": 200, ' ;; esac
	# The emulator checks JWTs against this machine's own clock, synchronised
	# or not: no waiting for NTP, unless MEMBERS sets it.
	case ${2:-} in *'"clock_sync_wait_s"'*) ;; *) _sc_timing=$_sc_timing'"clock_sync_wait_s": 0, ' ;; esac
	# Nor, for the same reason, holding back sensord's unsynced records.
	case ${2:-} in *'"unsynced_hold_s"'*) ;; *) _sc_timing=$_sc_timing'"unsynced_hold_s": 0, ' ;; esac
	case ${2:-} in *'"sensord_user"'*) ;; *) _sc_timing=$_sc_timing"\"sensord_user\": \"$RUN_USER\", " ;; esac
	cat >"$STREAMERD_CONF" <<EOC
{
  "_comment": "streamerd test config",
  $_sc_auth,
  "account": "emuacct",
  "database": "DEMO_DB", "schema": "DEMO_SCHEMA", "pipe": "THERMAL_SENSOR_PIPE",
  "account_url": "$URL", "ca_file": "$EMU_CA",
  "socket": "$SENSORD_SOCK", $_sc_timing
  "metrics_file": "$STREAMERD_METRICS"${2:+,
  $2}
}
EOC
	chmod 600 "$STREAMERD_CONF"
}

start_streamerd() {
	need_built "$STREAMERD_BIN"
	watch_log "$STREAMERD_LOG"
	_st_banners=$(_streamerd_banners)
	ASAN_OPTIONS=$DAEMON_ASAN "$STREAMERD_BIN" -d -f "$STREAMERD_CONF" "$@" >>"$STREAMERD_LOG" 2>&1 &
	STREAMERD_PID=$!
	track "$STREAMERD_PID" streamerd
}

_streamerd_banners() {
	if [ -f "$STREAMERD_LOG" ]; then
		grep -c "streamerd [^ ]* starting: " "$STREAMERD_LOG" || true
	else
		echo 0
	fi
}

# Up: the streamerd started last printed its banner (a signal that comes
# before main() runs can only kill it), or it is gone already.
_streamerd_up() {
	[ "$(_streamerd_banners)" -gt "${_st_banners:-0}" ] || ! alive "$STREAMERD_PID"
}

stop_streamerd() {
	[ -n "$STREAMERD_PID" ] || return 0
	wait_for 10 "streamerd to start" _streamerd_up
	stop_pid "$STREAMERD_PID" streamerd 5
	STREAMERD_PID=""
}

kill_streamerd() {
	[ -n "$STREAMERD_PID" ] && kill_pid "$STREAMERD_PID"
	STREAMERD_PID=""
}

start_fake_sensord() {
	need_built "$BIN/fake-sensord"
	mkdir -p "$T/run"
	watch_log "$FAKE_SENSORD_LOG"
	: >"$T/fake-sensord.out"
	"$BIN/fake-sensord" "$@" "$SENSORD_SOCK" "$FAKE_SENSORD_STATE" >"$T/fake-sensord.out" \
		2>>"$FAKE_SENSORD_LOG" &
	FAKE_SENSORD_PID=$!
	track "$FAKE_SENSORD_PID" fake-sensord
	wait_for 5 "fake-sensord to listen" grep -q ready "$T/fake-sensord.out"
}

stop_fake_sensord() {
	[ -n "$FAKE_SENSORD_PID" ] && stop_pid "$FAKE_SENSORD_PID" fake-sensord
	FAKE_SENSORD_PID=""
}

journaled() {
	cut -d' ' -f1 "$FAKE_SENSORD_STATE" 2>/dev/null || echo 0
}

acked() {
	cut -d' ' -f2 "$FAKE_SENSORD_STATE" 2>/dev/null || echo 0
}

# wait_acked N SECONDS: until fake-sensord got an ack for N (streamerd saw
# it committed); fails at once when streamerd exits meanwhile.
wait_acked() {
	_wa_n=$1
	poll "$2" _streamerd_acked || fail "ack stuck at $(acked), expected $1 within $2 s"
}

_streamerd_acked() {
	[ "$(acked)" -ge "$_wa_n" ] && return 0
	if [ -n "$STREAMERD_PID" ] && ! alive "$STREAMERD_PID"; then
		_wa_rc=0
		wait "$STREAMERD_PID" || _wa_rc=$?
		untrack "$STREAMERD_PID"
		STREAMERD_PID=""
		fail "streamerd exited ($_wa_rc) before $_wa_n was acked"
	fi
	return 1
}

check_table() {
	_ct_n=$1
	shift
	python3 "$TOP/tests/lib/check-table.py" "$EMU_DB" "$_ct_n" "$JOURNAL_ID" "$@" || fail "table check"
}

no_secrets() {
	_ns_body=$(sed -n 2p "$STREAMER_KEY" | cut -c1-24)
	for _ns_f in "$@"; do
		[ -n "$PAT" ] && grep -qF "$PAT" "$_ns_f" && fail "$_ns_f contains the PAT"
		grep -qE 'eyJ[A-Za-z0-9_-]{8,}\.' "$_ns_f" && fail "$_ns_f contains a JWT"
		grep -q 'PRIVATE KEY' "$_ns_f" && fail "$_ns_f contains key material"
		grep -qF "$_ns_body" "$_ns_f" && fail "$_ns_f contains key material"
		grep -qF "$PASSPHRASE" "$_ns_f" && fail "$_ns_f contains the passphrase"
	done
	return 0
}

# recovered_nm LINE: "N M" from streamerd's "recovered after N s; M rows
# caught up" (the outage's seconds and the rows committed since it began);
# fails on any other line.
recovered_nm() {
	_rn=$(printf '%s\n' "$1" | sed -n 's/.*recovered after \([0-9]*\) s; \([0-9]*\) rows caught up$/\1 \2/p')
	[ -n "$_rn" ] || fail "not a recovered line: $1"
	echo "$_rn"
}
