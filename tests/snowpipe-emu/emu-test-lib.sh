# Shared helpers for the emulator's integration tests (sourced, not run).
# Needs BUILD (absolute build dir) and TOP. Creates a temp dir with an RSA
# key pair, a PAT, a TLS certificate and tests/snowpipe-emu/thermal.json,
# starts and stops snowpipe-emu, and wraps curl so a test can assert on
# $STATUS, $BODY and the response headers in $HDRS.
# shellcheck shell=sh

: "${BUILD:?BUILD must point at the build directory}"
: "${TOP:?TOP must point at the repository}"
EMU_BIN=$BUILD/bin/snowpipe-emu
JWT_BIN=$BUILD/bin/emu-jwt
EMU_PID=
T=$(mktemp -d "${TMPDIR:-/tmp}/emu-test.XXXXXX")

emu_cleanup() {
	if [ -n "$EMU_PID" ]; then kill "$EMU_PID" 2>/dev/null; wait "$EMU_PID" 2>/dev/null; fi
	rm -rf "$T"
}
trap emu_cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*"
	[ -f "$T/emu.log" ] && { echo "--- emulator log (tail)"; tail -n 30 "$T/emu.log"; }
	exit 1
}

for tool in curl openssl sqlite3; do
	command -v $tool >/dev/null 2>&1 || { echo "$tool(1) not installed"; exit 77; }
done

openssl genrsa -out "$T/streamer.key" 2048 2>/dev/null || fail "openssl genrsa"
openssl rsa -in "$T/streamer.key" -pubout -out "$T/streamer.pub" 2>/dev/null || fail "openssl rsa"
openssl genrsa -out "$T/other.key" 2048 2>/dev/null || fail "openssl genrsa"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/streamer.pat"
chmod 600 "$T/streamer.pat" "$T/streamer.key"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 2 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null ||
	fail "openssl req"
cp "$TOP/tests/snowpipe-emu/thermal.json" "$T/thermal.json"
PAT=$(cat "$T/streamer.pat")
DB=$T/emu.db
PIPE_PATH=databases/DEMO_DB/schemas/DEMO_SCHEMA/pipes/THERMAL_SENSOR_PIPE

# emu_start [snowpipe-emu options...]: starts on a free port, sets URL.
emu_start() {
	: > "$T/emu.out"
	"$EMU_BIN" --config "${EMU_CONFIG:-$T/thermal.json}" --db "$DB" \
		--tls-cert "$T/tls.crt" --tls-key "$T/tls.key" "$@" \
		>"$T/emu.out" 2>>"$T/emu.log" &
	EMU_PID=$!
	w_i=0
	while ! grep -q 'listening on' "$T/emu.out" 2>/dev/null; do
		w_i=$((w_i + 1))
		[ $w_i -gt 100 ] && fail "emulator did not start"
		kill -0 "$EMU_PID" 2>/dev/null || { EMU_PID=; fail "emulator exited at start"; }
		sleep 0.1
	done
	URL=$(sed -n 's/^snowpipe-emu: listening on //p' "$T/emu.out")
	HOST=${URL#https://}
}

# emu_stop: SIGTERM, and the emulator must exit 0 (no crash, no leak
# reported by a sanitizer build).
emu_stop() {
	if [ -n "$EMU_PID" ]; then
		kill "$EMU_PID"
		wait "$EMU_PID"
		s_rc=$?
		EMU_PID=
		[ $s_rc -eq 0 ] || fail "emulator exited with status $s_rc"
	fi
}

emu_kill9() {
	if [ -n "$EMU_PID" ]; then kill -9 "$EMU_PID"; wait "$EMU_PID" 2>/dev/null; fi
	EMU_PID=
}

# req METHOD PATH [curl args...]: sets STATUS, BODY, HDRS (header file).
# AUTH (a bearer token) is sent when set; ACCEPT overrides the Accept header
# ("none" sends none).
req() {
	m=$1 p=$2
	shift 2
	set -- -sS -X "$m" --cacert "$T/tls.crt" -o "$T/body" -D "$T/hdrs" -w '%{http_code}' "$@"
	if [ "${ACCEPT:-}" = none ]; then set -- "$@" -H 'Accept:'
	else set -- "$@" -H "Accept: ${ACCEPT:-application/json}"; fi
	[ -n "${AUTH:-}" ] && set -- "$@" -H "Authorization: Bearer $AUTH"
	STATUS=$(curl "$@" "$URL$p" 2>"$T/curl.err") || STATUS=000
	BODY=$(cat "$T/body" 2>/dev/null)
	HDRS=$T/hdrs
}

expect_status() {
	[ "$STATUS" = "$1" ] || fail "${2:-request}: expected HTTP $1, got $STATUS: $BODY"
}

expect_body() {
	case $BODY in *"$1"*) ;; *) fail "${2:-request}: body lacks '$1': $BODY" ;; esac
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"
}

# json_field NAME: a top-level or nested string/number field's first value.
json_field() {
	printf '%s' "$BODY" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1
}

# jwt_claim TOKEN NAME: a numeric or string claim from a JWT's payload.
jwt_claim() {
	c_p=$(printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+')
	while [ $(( ${#c_p} % 4 )) -ne 0 ]; do c_p="$c_p="; done
	printf '%s' "$c_p" | base64 -d 2>/dev/null |
		sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

sql() {
	sqlite3 "$DB" "$1"
}

jwt() {
	"$JWT_BIN" --key "$T/streamer.key" --account EMUACCT --user STREAMER "$@"
}

# scoped_token: exchanges a fresh JWT for a scoped token into SCOPED.
scoped_token() {
	AUTH=$(jwt) req POST /oauth/token \
		--data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
	expect_status 200 "token exchange"
	SCOPED=$BODY
}

# open_channel NAME [json body]: opens with SCOPED, sets CT (continuation token).
open_channel() {
	AUTH=$SCOPED req PUT "/v2/streaming/$PIPE_PATH/channels/$1" \
		-H 'Content-Type: application/json' --data "${2:-{\}}"
	expect_status 200 "open $1"
	CT=$(json_field next_continuation_token)
}

# append NAME CT END_TOKEN FILE [curl args]: posts FILE as NDJSON.
append() {
	a_ch=$1 a_ct=$2 a_end=$3 a_file=$4
	shift 4
	AUTH=$SCOPED req POST \
		"/v2/streaming/data/$PIPE_PATH/channels/$a_ch/rows?continuationToken=$a_ct&endOffsetToken=$a_end" \
		-H 'Content-Type: application/x-ndjson' --data-binary "@$a_file" "$@"
}

# status NAME...: bulk status for the given channels.
status() {
	names=
	for s_n in "$@"; do names="$names${names:+,}\"$s_n\""; done
	AUTH=$SCOPED req POST "/v2/streaming/$PIPE_PATH:bulk-channel-status" \
		-H 'Content-Type: application/json' --data "{\"channel_names\":[$names]}"
}

# wait_committed NAME TOKEN: polls status until the committed token is TOKEN.
wait_committed() {
	w_i=0
	while :; do
		status "$1"
		[ "$(json_field last_committed_offset_token)" = "$2" ] && return 0
		w_i=$((w_i + 1))
		[ $w_i -gt 100 ] && fail "channel $1 never committed $2: $BODY"
		sleep 0.1
	done
}

fault() {
	AUTH= req POST /_emu/faults -H 'Content-Type: application/json' --data "$1"
	expect_status 200 "fault $1"
}

# row N ['"key":value'...]: one THERMAL row as NDJSON with seq N; each
# argument replaces that key's value (values must not contain commas).
row() {
	r_line=$(row_base "$1")
	shift
	for r_kv in "$@"; do
		r_key=${r_kv%%:*}
		r_line=$(printf '%s' "$r_line" | sed "s/$r_key:[^,}]*/$(printf '%s' "$r_kv" | sed 's/[&/\\]/\\&/g')/")
	done
	printf '%s\n' "$r_line"
}

row_base() {
	printf '{"uuid":"u-%s","rowid":"00000000000000ab-%020d","hostname":"pi","host":"pi",' "$1" "$1"
	printf '"ipaddress":null,"macaddress":null,"temperature":21.5,"humidity":40.1,"co2":612,'
	printf '"equivalentco2ppm":null,"totalvocppb":null,"pressure":101325.5,"cputempf":120,'
	printf '"temperatureicp":70.2,"cpu":3.5,"memory":41.2,"diskusage":"1200 MB","runtime":%s,' "$1"
	printf '"ts":1767225600,"systemtime":"01/01/2026 00:00:00","starttime":"01/01/2026 00:00:00",'
	printf '"endtime":"1767225600","datetimestamp":"2026-01-01T00:00:00.123","te":"0.0123",'
	printf '"seq":%s,"device":"pi","synced":true}' "$1"
}
