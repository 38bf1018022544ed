#!/bin/sh
# streamerd happy path against the emulator, once per credential kind (PAT,
# key-pair JWT with a plain and with an encrypted PKCS#8 key): --check passes
# its network stages, every journaled record lands exactly once with every
# column as the record says (nulls included), sensord gets acks only for
# committed seqs, one kept-alive TLS connection serves the whole run, the
# metrics file shows the committed seq, and no secret reaches a log.
. "$TOP/tests/streamerd/lib.sh"

emu_start --commit-lag-ms 200
n=0
for kind in pat jwt jwtenc; do
	rm -f "$T/fs.state"
	sqlite3 "$DB" "DELETE FROM THERMAL_SENSOR_DATA" || sd_fail "sqlite3"
	sd_conf $kind "\"channel_name\": \"happy-$kind\""
	fs_start -n 120 -r 40 -m 200
	"$SD_BIN" --check -f "$T/sd.json" >"$T/check.out" 2>&1
	for stage in "config" "credential file permissions" "private key" "sensord socket" \
	    "hostname discovery" "token exchange" "pipe DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_PIPE"; do
		grep -q "^PASS $stage" "$T/check.out" || { cat "$T/check.out"; sd_fail "--check ($kind): $stage did not pass"; }
	done
	if [ $kind != pat ]; then
		grep -q "fingerprint SHA256:[A-Za-z0-9+/]\{43\}=" "$T/check.out" || sd_fail "no fingerprint"
		fp=$(openssl pkey -in "$T/streamer.key" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -binary | base64)
		grep -qF "SHA256:$fp" "$T/check.out" || sd_fail "fingerprint differs from openssl's SHA256:$fp"
	fi
	sd_start
	wait_acked 200 30
	sd_stop
	fs_stop
	check_table 200 --values
	[ "$(acked)" -eq 200 ] || sd_fail "acked $(acked), journaled 200"
	grep -q "SNOWPIPE STREAMING CLIENT - PRODUCTION MODE" "$T/sd.log" || sd_fail "no banner"
	grep -q "Using ONLY Snowpipe Streaming v2 REST API" "$T/sd.log" || sd_fail "no banner"
	grep -q "^streamerd_committed_seq{[^}]*} 200$" "$T/metrics.prom" || sd_fail "metrics: committed seq"
	grep -q "^streamerd_backlog_records{[^}]*} 0$" "$T/metrics.prom" || sd_fail "metrics: backlog"
	grep -q "^streamerd_connections_opened_total{[^}]*} 1$" "$T/metrics.prom" ||
		sd_fail "more than one TLS connection: $(grep connections "$T/metrics.prom")"
	grep -q "stats: rows appended 200, rows committed 200, committed seq 200" "$T/sd.log" ||
		sd_fail "no final stats line"
	no_secrets "$T/sd.log" "$T/check.out"
	n=$((n + 1))
done
# The emulator saw few TLS handshakes: one per streamerd run, a few for --check.
hs=$(emu_stat tls_handshakes)
[ "$hs" -le 12 ] || sd_fail "$hs TLS handshakes for 3 runs"
echo "ok: $n credential kinds, 200 rows each, exactly once with the right values"
