#!/bin/sh
# ops-sandbox.sh: sourced by scripts/demo and the ops integration tests to
# build a complete, throw-away snowsense installation in one directory:
# a private CA and a TLS certificate for 127.0.0.1/localhost, an RSA key
# pair registered with the Snowpipe emulator (made by
# config/snowflake/keys.sh, as a user would), the emulator itself with the
# agreed table and pipe, and sensord/streamerd configs pointing at it, ready
# for scripts/supervise with sensord under the fake chips. Nothing here is
# used in production; it only wires real binaries together.
#
# The caller sets top (repository root) and BUILD (absolute build dir), and
# calls: sb_init DIR; sb_pki; sb_start_emu [EMU ARGS]; sb_configs SCENARIO;
# then runs "$sb_supervise" start ...; and sb_stop at the end.

# Fails with a message; the caller's EXIT trap cleans up.
sb_die() {
	echo "sandbox: $*" >&2
	exit 1
}

# sb_init DIR: the directory layout. As root, sensord runs as user nobody
# (the fake bus needs no privilege, as the real one needs none under the
# systemd unit), which must then reach its files: they are copied here.
sb_init() {
	sb=$1
	top=${top:?the caller sets top}
	mkdir -p "$sb/pki" "$sb/emu" "$sb/conf" "$sb/run" "$sb/state" "$sb/log" || sb_die "mkdir $sb"
	chmod 0755 "$sb" "$sb/run" "$sb/conf"
	sb_supervise=$top/scripts/supervise
	if [ "$(id -u)" = 0 ]; then
		sb_duser=nobody
		sb_dgroup=$(id -gn nobody 2>/dev/null) || sb_die "no user nobody to run sensord as"
		chown "$sb_duser:$sb_dgroup" "$sb/run" "$sb/state"
	else
		sb_duser=$(id -un)
		sb_dgroup=$(id -gn)
	fi
	for b in sensord streamerd sensortap snowpipe-emu; do
		[ -x "$BUILD/bin/$b" ] || sb_die "$BUILD/bin/$b missing (make all tests)"
	done
	command -v openssl >/dev/null 2>&1 || sb_die "openssl not installed (make deps)"
}

# sb_pki: CA, server certificate, the streamer's key pair and a PAT.
sb_pki() {
	p=$sb/pki
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$p/ca.key" -out "$p/ca.crt" \
		-days 2 -subj "/CN=snowsense throw-away demo CA" >"$p/openssl.log" 2>&1 ||
		sb_die "CA: $(cat "$p/openssl.log")"
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		"basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth" >"$p/server.ext"
	openssl req -newkey rsa:2048 -nodes -keyout "$p/tls.key" -out "$p/tls.csr" \
		-subj "/CN=localhost" >>"$p/openssl.log" 2>&1 || sb_die "TLS key: $(cat "$p/openssl.log")"
	openssl x509 -req -in "$p/tls.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
		-out "$p/tls.crt" -days 2 -extfile "$p/server.ext" >>"$p/openssl.log" 2>&1 ||
		sb_die "TLS certificate: $(cat "$p/openssl.log")"
	chmod 0644 "$p/ca.crt"
	"$top/config/snowflake/keys.sh" -o "$p" -n streamer -u STREAMER >"$p/keys.out" 2>&1 ||
		sb_die "keys.sh: $(cat "$p/keys.out")"
	# shellcheck disable=SC2034 # for the caller
	sb_fingerprint=$(tail -n 1 "$p/keys.out")
	od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$p/streamer.pat"
	chmod 0600 "$p/streamer.pat"
}

# sb_start_emu [ARGS]: the emulator with the agreed world (the repository's
# tests/snowpipe-emu/thermal.json: account EMUACCT, user STREAMER, DEMO_DB.
# DEMO_SCHEMA.THERMAL_SENSOR_DATA and THERMAL_SENSOR_PIPE, as in
# config/snowflake/setup.sql); sets sb_url and sb_emu_pid.
sb_start_emu() {
	e=$sb/emu
	cp "$top/tests/snowpipe-emu/thermal.json" "$e/world.json"
	cp "$sb/pki/streamer.pub" "$e/streamer.pub"
	cp "$sb/pki/streamer.pat" "$e/streamer.pat"
	sb_emu_db=$e/emu.db
	"$BUILD/bin/snowpipe-emu" --config "$e/world.json" --db "$sb_emu_db" \
		--tls-cert "$sb/pki/tls.crt" --tls-key "$sb/pki/tls.key" --listen 127.0.0.1:0 \
		"$@" >"$e/ready" 2>"$sb/log/snowpipe-emu.log" &
	sb_emu_pid=$!
	i=0
	sb_url=""
	while [ $i -lt 100 ]; do
		sb_url=$(sed -n 's/^snowpipe-emu: listening on \(https:\/\/[0-9.:]*\).*/\1/p' "$e/ready")
		[ -n "$sb_url" ] && break
		kill -0 "$sb_emu_pid" 2>/dev/null || sb_die "snowpipe-emu exited: $(cat "$sb/log/snowpipe-emu.log")"
		sleep 0.1
		i=$((i + 1))
	done
	[ -n "$sb_url" ] || sb_die "snowpipe-emu did not say it was listening within 10 s"
}

# sb_configs SCENARIO [INTERVAL_MS]: sensord.json and streamerd.json in
# conf/, and the supervise environment (sensord under the fake chips).
sb_configs() {
	scenario=$1
	interval=${2:-2000}
	[ -r "$scenario" ] || sb_die "no scenario $scenario"
	cat >"$sb/conf/sensord.json" <<EOF
{
  "_comment": "snowsense sandbox: sensord on fake chips, everything under $sb",
  "bus": "/dev/i2c-1",
  "device": "demo-pi",
  "interval_ms": $interval,
  "socket": "$sb/run/sensord.sock",
  "state_dir": "$sb/state",
  "user": "$sb_duser",
  "group": "$sb_dgroup",
  "metrics_file": "$sb/run/sensord.prom",
  "journal": { "fsync": "always" }
}
EOF
	cat >"$sb/conf/streamerd.json" <<EOF
{
  "_comment": "snowsense sandbox: streamerd to the local Snowpipe emulator at $sb_url",
  "account": "EMUACCT",
  "user": "STREAMER",
  "private_key_file": "$sb/pki/streamer.p8",
  "database": "DEMO_DB",
  "schema": "DEMO_SCHEMA",
  "pipe": "THERMAL_SENSOR_PIPE",
  "channel_name": "demo-pi",
  "account_url": "$sb_url",
  "ca_file": "$sb/pki/ca.crt",
  "socket": "$sb/run/sensord.sock",
  "flush_interval_ms": 1000,
  "commit_poll_ms": 500,
  "metrics_file": "$sb/run/streamerd.prom"
}
EOF
	# The control file lets a test unplug chips while sensord runs.
	: >"$sb/chips.ctl"
	chmod 0644 "$sb/chips.ctl"
	wc=$top/tests/fakei2c/with-chips
	SENSORD_BIN=$BUILD/bin/sensord
	FAKEI2C_LIB=${FAKEI2C_LIB:-$BUILD/lib/fakei2c.so}
	[ -r "$FAKEI2C_LIB" ] || sb_die "$FAKEI2C_LIB missing (make tests)"
	[ -x "$wc" ] || sb_die "$wc missing"
	# SB_SENSORD_FILTER: a system call list for tests/ops' ops-sysfilter,
	# to run sensord inside its unit's SystemCallFilter=.
	sf=""
	if [ -n "${SB_SENSORD_FILTER:-}" ]; then
		sf="$BUILD/bin/ops-sysfilter $SB_SENSORD_FILTER -- "
	fi
	if [ "$(id -u)" = 0 ]; then
		mkdir -p "$sb/bin"
		cp "$BUILD/bin/sensord" "$wc" "$FAKEI2C_LIB" "$scenario" "$sb/bin/"
		if [ -n "$sf" ]; then
			cp "$BUILD/bin/ops-sysfilter" "$SB_SENSORD_FILTER" "$sb/bin/"
			sf="$sb/bin/ops-sysfilter $sb/bin/$(basename "$SB_SENSORD_FILTER") -- "
		fi
		chmod 0755 "$sb/bin" "$sb/bin/"*
		wc=$sb/bin/with-chips
		SENSORD_BIN=$sb/bin/sensord
		FAKEI2C_LIB=$sb/bin/$(basename "$FAKEI2C_LIB")
		scenario=$sb/bin/$(basename "$scenario")
		SENSORD_WRAPPER="setpriv --reuid=$sb_duser --regid=$sb_dgroup --clear-groups -- "
	else
		SENSORD_WRAPPER=""
	fi
	SENSORD_WRAPPER="$SENSORD_WRAPPER$sf$wc $scenario --control $sb/chips.ctl --"
	STREAMERD_USER=root
	[ "$(id -u)" = 0 ] || STREAMERD_USER=$(id -un)
	SUPERVISE_RUNDIR=$sb/run/supervise
	SUPERVISE_LOGDIR=$sb/log
	SENSORTAP_BIN=$BUILD/bin/sensortap
	STREAMERD_BIN=$BUILD/bin/streamerd
	export SENSORD_WRAPPER STREAMERD_USER SUPERVISE_RUNDIR SUPERVISE_LOGDIR \
		SENSORTAP_BIN SENSORD_BIN STREAMERD_BIN BUILD FAKEI2C_LIB
	# Sanitizer builds (make check SAN=1): both daemons exit from inside
	# their seccomp filters, where LeakSanitizer's exit-time check cannot
	# run (its tracer thread is refused ptrace, and in streamerd getppid
	# too, which leaves the process spinning at exit for ever). Their leaks
	# are checked by the unit tests and the paths that exit before the
	# sandbox (tests 40, 41, 46).
	if [ "${SAN:-}" = 1 ]; then
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
		export ASAN_OPTIONS
	fi
}

# Rows committed in the emulator's table, and distinct seqs among them.
sb_rows() {
	sqlite3 "$sb_emu_db" "select count(*) from THERMAL_SENSOR_DATA" 2>/dev/null || echo 0
}
sb_distinct_seqs() {
	sqlite3 "$sb_emu_db" \
		"select count(distinct json_extract(RAW_DATA, '\$.seq')) from THERMAL_SENSOR_DATA" 2>/dev/null || echo 0
}

# Stops the daemons (through supervise) and the emulator; idempotent.
sb_stop() {
	if [ -n "${sb:-}" ] && [ -d "$sb/conf" ]; then
		"$sb_supervise" -c "$sb/conf" stop >/dev/null 2>&1
	fi
	if [ -n "${sb_emu_pid:-}" ]; then
		kill -TERM "$sb_emu_pid" 2>/dev/null
		wait "$sb_emu_pid" 2>/dev/null
		sb_emu_pid=""
	fi
}
