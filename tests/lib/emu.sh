# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=sh
# emu.sh: the Snowpipe emulator (tests/snowpipe-emu) for tests, sourced by
# harness.sh. Everything sits flat in $T, because the emulator resolves a
# world's key and PAT files relative to the world file:
#   $EMU_CA        the CA certificate that signed the emulator's TLS
#                  certificate (for 127.0.0.1 and localhost): what a client trusts
#   $STREAMER_KEY  the RSA key of user STREAMER ($T/streamer.key; the
#                  emulator knows its public half, $T/streamer.pub)
#   $PAT           user STREAMER's programmatic access token ($T/streamer.pat)
#   $T/thermal.json  a copy of tests/snowpipe-emu/thermal.json, the default
#                  world (DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA, pipe
#                  THERMAL_SENSOR_PIPE); a test may edit a copy of it and
#                  pass that as EMU_WORLD
#   $EMU_DB        its SQLite database ($T/emu.db), reused across restarts
#   $EMU_LOG       its log, tailed when the test fails
#   $URL, $HOST    https://127.0.0.1:PORT and 127.0.0.1:PORT once started
#
#   emu_world FILE SED-EXPRESSION...  FILE, a copy of the default world
#                        with each expression applied (each must change it)
#   start_emu [OPTIONS]  on a free port (or --listen ADDR:PORT), world
#                        $EMU_WORLD (default $T/thermal.json); makes the
#                        keys and certificates on first use; run under
#                        $EMU_CMD_PREFIX when set (the demo: setsid, so
#                        that Ctrl-C leaves it to the clean-up)
#   stop_emu             SIGTERM; it must exit 0 (no crash, no leak report)
#   kill_emu             SIGKILL (uncommitted batches are lost)
#   req METHOD PATH [CURL ARGS]  sets STATUS, BODY, HDRS (a header file);
#                        sends "Authorization: Bearer $AUTH" when AUTH is set,
#                        "Accept: $ACCEPT" (default application/json; "none": none)
#   expect_status CODE WHAT, expect_body TEXT WHAT, json_field NAME, jwt_claim TOKEN NAME
#   jwt [emu-jwt OPTIONS]  a key-pair JWT for EMUACCT.STREAMER
#   scoped_token         a scoped token into $SCOPED
#   open_channel NAME [BODY], append NAME CT END FILE [CURL ARGS],
#   channel_status NAME..., wait_committed NAME TOKEN
#   row N ['"key":value'...]  one NDJSON row of the thermal table
#   fault JSON           POST /_emu/faults; it must be accepted
#   emu_stat NAME        a top-level number of /_emu/stats
#   emu_settled [SECONDS]  until no batch waits for its commit (the table is final)
#   sql QUERY            sqlite3 on $EMU_DB
#   table_rows, table_seqs  rows in THERMAL_SENSOR_DATA, distinct record seqs among them
# (Variables set here are read by the tests; some arguments are optional.)
# shellcheck disable=SC2034,SC2120

EMU_BIN=$BIN/snowpipe-emu
EMU_CA=$T/ca.crt
STREAMER_KEY=$T/streamer.key
EMU_DB=$T/emu.db
EMU_LOG=$T/emu.log
EMU_PID=""
PIPE_PATH=databases/DEMO_DB/schemas/DEMO_SCHEMA/pipes/THERMAL_SENSOR_PIPE
PAT=""
URL=""
HOST=""

_emu_openssl() {
	openssl "$@" >>"$T/openssl.log" 2>&1 || fail "openssl $1: $(tail -n 3 "$T/openssl.log")"
}

# emu_pki: a throw-away CA, the emulator's certificate signed by it, the
# streamer's key pair (unless $STREAMER_KEY exists) and a PAT. Idempotent.
emu_pki() {
	[ -f "$EMU_CA" ] && return 0
	need_cmd openssl curl sqlite3
	_emu_openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.crt" \
		-days 2 -subj "/CN=snowsense throw-away test CA"
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
		"keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$T/tls.ext"
	_emu_openssl req -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.csr" -subj /CN=localhost
	_emu_openssl x509 -req -in "$T/tls.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
		-out "$T/tls.crt" -days 2 -extfile "$T/tls.ext"
	chmod 0644 "$T/ca.crt"
	if [ ! -f "$STREAMER_KEY" ]; then
		_emu_openssl genrsa -out "$STREAMER_KEY" 2048
		_emu_openssl rsa -in "$STREAMER_KEY" -pubout -out "$T/streamer.pub"
	fi
	chmod 0600 "$STREAMER_KEY"
	if [ ! -f "$T/streamer.pat" ]; then
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/streamer.pat"
	fi
	chmod 0600 "$T/streamer.pat"
	PAT=$(cat "$T/streamer.pat")
	[ -f "$T/thermal.json" ] || cp "$TOP/tests/snowpipe-emu/thermal.json" "$T/thermal.json"
}

emu_world() {
	_ew_out=$1
	shift
	emu_pki
	cp "$T/thermal.json" "$_ew_out.tmp"
	for _ew_e in "$@"; do
		sed "$_ew_e" "$_ew_out.tmp" >"$_ew_out"
		if cmp -s "$_ew_out" "$_ew_out.tmp"; then
			fail "world edit '$_ew_e' changed nothing in thermal.json"
		fi
		mv "$_ew_out" "$_ew_out.tmp"
	done
	mv "$_ew_out.tmp" "$_ew_out"
}

# start_emu [OPTIONS]: starts the emulator and waits (10 s at most) for its
# ready line; sets URL, HOST and EMU_PID.
start_emu() {
	need_built "$EMU_BIN"
	emu_pki
	watch_log "$EMU_LOG"
	: >"$T/emu.out"
	# shellcheck disable=SC2086 # a word list
	${EMU_CMD_PREFIX:-} "$EMU_BIN" --config "${EMU_WORLD:-$T/thermal.json}" --db "$EMU_DB" \
		--tls-cert "$T/tls.crt" --tls-key "$T/tls.key" "$@" >"$T/emu.out" 2>>"$EMU_LOG" &
	EMU_PID=$!
	track "$EMU_PID" snowpipe-emu
	wait_for 10 "the emulator's ready line" _emu_ready
	URL=$(sed -n 's/^snowpipe-emu: listening on //p' "$T/emu.out")
	HOST=${URL#https://}
}

# The ready line, once whole: it is the emulator's first line on stdout,
# and a line is whole when its newline is there.
_emu_ready() {
	[ "$(wc -l <"$T/emu.out")" -ge 1 ] && grep -q '^snowpipe-emu: listening on https://' "$T/emu.out" &&
		return 0
	alive "$EMU_PID" || fail "the emulator exited at start"
	return 1
}

stop_emu() {
	[ -n "$EMU_PID" ] || return 0
	stop_pid "$EMU_PID" snowpipe-emu
	EMU_PID=""
}

kill_emu() {
	[ -n "$EMU_PID" ] && kill_pid "$EMU_PID"
	EMU_PID=""
}

# req METHOD PATH [curl args...]: sets STATUS (000 when no answer came),
# BODY and HDRS (the response headers' file).
req() {
	_rq_m=$1 _rq_p=$2
	shift 2
	set -- -sS -X "$_rq_m" --cacert "$EMU_CA" -o "$T/body" -D "$T/hdrs" -w '%{http_code}' "$@"
	if [ "${ACCEPT:-}" = none ]; then
		set -- "$@" -H 'Accept:'
	else
		set -- "$@" -H "Accept: ${ACCEPT:-application/json}"
	fi
	[ -n "${AUTH:-}" ] && set -- "$@" -H "Authorization: Bearer $AUTH"
	: >"$T/body"
	STATUS=$(curl "$@" "$URL$_rq_p" 2>"$T/curl.err") || STATUS=000
	BODY=$(cat "$T/body")
	HDRS=$T/hdrs
}

expect_status() {
	[ "$STATUS" = "$1" ] || fail "${2:-request}: expected HTTP $1, got $STATUS: $BODY"
}

expect_body() {
	case $BODY in *"$1"*) ;; *) fail "${2:-request}: body lacks '$1': $BODY" ;; esac
}

# json_field NAME: the first value of a (top-level or nested) string or
# number field of $BODY.
json_field() {
	printf '%s' "$BODY" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1
}

# jwt_claim TOKEN NAME: a numeric or string claim from a JWT's payload.
jwt_claim() {
	_jc_p=$(printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+')
	while [ $((${#_jc_p} % 4)) -ne 0 ]; do _jc_p="$_jc_p="; done
	printf '%s' "$_jc_p" | base64 -d 2>/dev/null | sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

jwt() {
	"$BIN/emu-jwt" --key "$STREAMER_KEY" --account EMUACCT --user STREAMER "$@"
}

scoped_token() {
	AUTH=$(jwt) req POST /oauth/token \
		--data "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&scope=$HOST"
	expect_status 200 "token exchange"
	SCOPED=$BODY
}

# open_channel NAME [JSON BODY]: opens with $SCOPED, sets CT (the next
# continuation token).
open_channel() {
	AUTH=$SCOPED req PUT "/v2/streaming/$PIPE_PATH/channels/$1" \
		-H 'Content-Type: application/json' --data "${2:-{\}}"
	expect_status 200 "open $1"
	CT=$(json_field next_continuation_token)
}

# append NAME CT END_TOKEN FILE [curl args]: posts FILE as NDJSON.
append() {
	_ap_ch=$1 _ap_ct=$2 _ap_end=$3 _ap_file=$4
	shift 4
	AUTH=$SCOPED req POST \
		"/v2/streaming/data/$PIPE_PATH/channels/$_ap_ch/rows?continuationToken=$_ap_ct&endOffsetToken=$_ap_end" \
		-H 'Content-Type: application/x-ndjson' --data-binary "@$_ap_file" "$@"
}

# channel_status NAME...: bulk status of these channels.
channel_status() {
	_cs_names=""
	for _cs_n in "$@"; do _cs_names="$_cs_names${_cs_names:+,}\"$_cs_n\""; done
	AUTH=$SCOPED req POST "/v2/streaming/$PIPE_PATH:bulk-channel-status" \
		-H 'Content-Type: application/json' --data "{\"channel_names\":[$_cs_names]}"
}

# wait_committed NAME TOKEN: until the channel's committed token is TOKEN.
wait_committed() {
	_wc_ch=$1 _wc_tok=$2
	wait_for 15 "channel $1 to commit $2" _emu_committed
}

_emu_committed() {
	channel_status "$_wc_ch"
	[ "$(json_field last_committed_offset_token)" = "$_wc_tok" ]
}

fault() {
	AUTH='' req POST /_emu/faults -H 'Content-Type: application/json' --data "$1"
	expect_status 200 "fault $1"
}

emu_stat() {
	AUTH='' req GET /_emu/stats
	expect_status 200 "GET /_emu/stats"
	printf '%s' "$BODY" | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}

# emu_settled [SECONDS]: until the emulator holds no batch still waiting
# for its commit (a stopped streamerd's last append commits after it
# exits), so the table is what it will stay.
emu_settled() {
	wait_for "${1:-15}" "the emulator to commit the batches it holds" _emu_no_pending
}

_emu_no_pending() {
	[ "$(emu_stat pending_batches)" = 0 ]
}

sql() {
	sqlite3 "$EMU_DB" "$1"
}

table_rows() {
	sqlite3 "$EMU_DB" "select count(*) from THERMAL_SENSOR_DATA" 2>/dev/null || echo 0
}

table_seqs() {
	sqlite3 "$EMU_DB" "select count(distinct json_extract(RAW_DATA, '\$.seq')) from THERMAL_SENSOR_DATA" \
		2>/dev/null || echo 0
}

# row N ['"key":value'...]: one THERMAL row as NDJSON with seq N; each
# argument replaces that key's value (values must not contain commas).
row() {
	_rw_line=$(_emu_row_base "$1")
	shift
	for _rw_kv in "$@"; do
		_rw_key=${_rw_kv%%:*}
		_rw_line=$(printf '%s' "$_rw_line" |
			sed "s/$_rw_key:[^,}]*/$(printf '%s' "$_rw_kv" | sed 's/[&/\\]/\\&/g')/")
	done
	printf '%s\n' "$_rw_line"
}

_emu_row_base() {
	printf '{"uuid":"u-%s","rowid":"00000000000000ab-%020d","hostname":"pi","host":"pi",' "$1" "$1"
	printf '"ipaddress":null,"macaddress":null,"temperature":21.5,"humidity":40.1,"co2":612,'
	printf '"equivalentco2ppm":null,"totalvocppb":null,"pressure":101325.5,"cputempf":120,'
	printf '"temperatureicp":70.2,"cpu":3.5,"memory":41.2,"diskusage":"1200 MB","runtime":%s,' "$1"
	printf '"ts":1767225600,"systemtime":"01/01/2026 00:00:00","starttime":"01/01/2026 00:00:00",'
	printf '"endtime":"1767225600","datetimestamp":"2026-01-01T00:00:00.123","te":"0.0123",'
	printf '"seq":%s,"device":"pi","synced":true}' "$1"
}
