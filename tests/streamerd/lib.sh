# Shared helpers for streamerd's integration tests (sourced, not run), on top
# of the emulator's own test library: a temp dir with keys, PAT and TLS
# certificate, the emulator, fake-sensord (a scripted journal), streamerd
# configs for each credential kind, waiting on acks, and the table check.
# shellcheck shell=sh

: "${BUILD:?BUILD must point at the build directory}"
: "${TOP:?TOP must point at the repository}"
if [ ! -x "$BUILD/bin/snowpipe-emu" ] || [ ! -f "$TOP/tests/snowpipe-emu/emu-test-lib.sh" ]; then
	echo "snowpipe-emu is not built (tests/snowpipe-emu missing)"
	exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "python3 not installed"; exit 77; }
# shellcheck source=../snowpipe-emu/emu-test-lib.sh
. "$TOP/tests/snowpipe-emu/emu-test-lib.sh"

# SD_ASAN: ASAN_OPTIONS for the long-running daemon (-d), which exits from
# inside its seccomp filter. LeakSanitizer's exit-time check cannot work
# there: its tracer thread is refused getppid (and then ptrace), dies, and
# the daemon spins at exit for ever with SIGTERM blocked. So only that
# daemon runs without it (prefix its command with ASAN_OPTIONS=$SD_ASAN);
# every path that exits before the sandbox (usage, -n, --check,
# --drop-channel) keeps leak checking, as do the unit tests.
SD_ASAN=${ASAN_OPTIONS:-}
[ "${SAN:-}" = 1 ] && SD_ASAN="${SD_ASAN:+$SD_ASAN:}detect_leaks=0"
SD_BIN=$BUILD/bin/streamerd
FS_BIN=$BUILD/bin/fake-sensord
SD_PID= FS_PID=
JID=5eed5eed00c0ffee
SOCK=$T/s.sock

sd_cleanup() {
	[ -n "$SD_PID" ] && kill -9 "$SD_PID" 2>/dev/null
	[ -n "$FS_PID" ] && kill "$FS_PID" 2>/dev/null
	[ -n "$SD_PID" ] && wait "$SD_PID" 2>/dev/null
	[ -n "$FS_PID" ] && wait "$FS_PID" 2>/dev/null
	emu_cleanup
}
trap sd_cleanup EXIT INT TERM

sd_fail() {
	echo "FAIL: $*"
	for f in sd.log fs.log emu.log; do
		[ -f "$T/$f" ] && { echo "--- $f (tail)"; tail -n 25 "$T/$f"; }
	done
	exit 1
}

# fs_start [fake-sensord options]: starts the journal on $SOCK.
fs_start() {
	: > "$T/fs.out"
	"$FS_BIN" "$@" "$SOCK" "$T/fs.state" >"$T/fs.out" 2>>"$T/fs.log" &
	FS_PID=$!
	fs_i=0
	until grep -q ready "$T/fs.out" 2>/dev/null; do
		fs_i=$((fs_i + 1)); [ $fs_i -gt 100 ] && sd_fail "fake-sensord did not start"
		sleep 0.05
	done
}

fs_stop() {
	[ -n "$FS_PID" ] && { kill "$FS_PID"; wait "$FS_PID" 2>/dev/null; }
	FS_PID=
}

# acked / journaled: what fake-sensord's state file says.
acked() { cut -d' ' -f2 "$T/fs.state" 2>/dev/null || echo 0; }
journaled() { cut -d' ' -f1 "$T/fs.state" 2>/dev/null || echo 0; }

# sd_conf pat|jwt|jwtenc [extra JSON members]: writes $T/sd.json (mode 0600).
sd_conf() {
	case $1 in
	pat) auth="\"pat\": \"$PAT\", \"user\": \"streamer\"" ;;
	jwt) auth="\"private_key_file\": \"$T/streamer.key\", \"user\": \"streamer\"" ;;
	jwtenc)
		printf 'correct horse battery\n' > "$T/pass"
		chmod 600 "$T/pass"
		openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$T/streamer.key" -out "$T/enc.p8" \
			-passout file:"$T/pass" 2>/dev/null || sd_fail "openssl pkcs8"
		chmod 600 "$T/enc.p8"
		auth="\"private_key_file\": \"$T/enc.p8\", \"private_key_passphrase_file\": \"$T/pass\", \"user\": \"streamer\""
		;;
	esac
	cat > "$T/sd.json" <<EOC
{
  "_comment": "streamerd test config",
  $auth,
  "account": "emuacct",
  "database": "DEMO_DB", "schema": "DEMO_SCHEMA", "pipe": "THERMAL_SENSOR_PIPE",
  "account_url": "$URL", "ca_file": "$T/tls.crt",
  "socket": "$SOCK", "flush_interval_ms": 200, "commit_poll_ms": 200,
  "metrics_file": "$T/metrics.prom"${2:+,
  $2}
}
EOC
	chmod 600 "$T/sd.json"
}

# sd_start [streamerd options]: runs streamerd in the foreground mode, logging to sd.log.
sd_start() {
	SD_BANNERS=$(grep -c "PRODUCTION MODE" "$T/sd.log" 2>/dev/null || echo 0)
	ASAN_OPTIONS=$SD_ASAN "$SD_BIN" -d -f "$T/sd.json" "$@" >>"$T/sd.log" 2>&1 &
	SD_PID=$!
}

# sd_wait_up: until the streamerd started last has printed its banner (a
# signal sent before main() runs can only kill it, so stopping waits for this).
sd_wait_up() {
	su_i=0
	while [ "$(grep -c "PRODUCTION MODE" "$T/sd.log" 2>/dev/null || echo 0)" -le "$SD_BANNERS" ]; do
		su_i=$((su_i + 1))
		[ $su_i -gt 100 ] && sd_fail "streamerd did not start within 10 s"
		kill -0 "$SD_PID" 2>/dev/null || return 0
		sleep 0.1
	done
}

# sd_stop: SIGTERM, which must end streamerd within 5 s with status 0.
sd_stop() {
	[ -n "$SD_PID" ] || return 0
	sd_wait_up
	if ! kill "$SD_PID" 2>/dev/null; then
		wait "$SD_PID"
		ss_rc=$?
		SD_PID=
		sd_fail "streamerd was gone before it was told to stop (status $ss_rc)"
	fi
	ss_i=0
	while kill -0 "$SD_PID" 2>/dev/null; do
		ss_i=$((ss_i + 1))
		if [ $ss_i -gt 50 ]; then
			grep -E 'State|Sig' "/proc/$SD_PID/status"
			kill -9 "$SD_PID"; wait "$SD_PID" 2>/dev/null; SD_PID=
			sd_fail "streamerd did not stop within 5 s of SIGTERM"
		fi
		sleep 0.1
	done
	wait "$SD_PID"
	ss_rc=$?
	SD_PID=
	[ $ss_rc -eq 0 ] || sd_fail "streamerd exited with $ss_rc after SIGTERM"
}

sd_kill9() {
	[ -n "$SD_PID" ] && { kill -9 "$SD_PID"; wait "$SD_PID" 2>/dev/null; }
	SD_PID=
}

# wait_acked N SECONDS: until fake-sensord got an ack for N (streamerd saw it committed).
wait_acked() {
	wa_i=0
	while [ "$(acked)" -lt "$1" ]; do
		wa_i=$((wa_i + 1))
		[ $wa_i -gt $(($2 * 10)) ] && sd_fail "ack stuck at $(acked), expected $1 within $2 s"
		if [ -n "$SD_PID" ] && ! kill -0 "$SD_PID" 2>/dev/null; then
			wait "$SD_PID"; rc=$?; SD_PID=
			sd_fail "streamerd exited ($rc) before $1 was acked"
		fi
		sleep 0.1
	done
}

# check_table N [--values]: every journaled seq 1..N in the table exactly once, in order.
check_table() {
	ct_n=$1; shift
	python3 "$TOP/tests/streamerd/check.py" "$DB" "$ct_n" "$JID" "$@" || sd_fail "table check"
}

# fault JSON: posts fault rules / actions to the emulator.
fault() {
	out=$(curl -sS --cacert "$T/tls.crt" -d "$1" "$URL/_emu/faults") || sd_fail "POST /_emu/faults"
	case $out in *error*|*rror*) sd_fail "fault rejected: $out" ;; esac
}

# stat NAME: a top-level number from /_emu/stats.
emu_stat() {
	curl -sS --cacert "$T/tls.crt" "$URL/_emu/stats" |
		python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}

# no_secrets FILE...: the PAT, any JWT-looking token, key material never logged.
no_secrets() {
	for f in "$@"; do
		grep -qF "$PAT" "$f" && sd_fail "$f contains the PAT"
		grep -qE 'eyJ[A-Za-z0-9_-]{8,}\.' "$f" && sd_fail "$f contains a JWT"
		grep -q 'PRIVATE KEY' "$f" && sd_fail "$f contains key material"
		body=$(sed -n 2p "$T/streamer.key" | cut -c1-24)
		grep -qF "$body" "$f" && sd_fail "$f contains key material"
		[ -f "$T/pass" ] && grep -qF "correct horse" "$f" && sd_fail "$f contains the passphrase"
	done
	return 0
}
