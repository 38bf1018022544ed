#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# streamerd happy path against the emulator, once per credential kind (PAT,
# key-pair JWT with a plain and with an encrypted PKCS#8 key): --check passes
# its network stages, every journaled record lands exactly once with every
# column as the record says (nulls included), sensord gets acks only for
# committed seqs, one kept-alive TLS connection serves the whole run, the
# metrics file shows the committed seq, each start logs one start line (no
# banner), and no secret reaches a log.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 200
n=0
for kind in pat jwt jwtenc; do
	rm -f "$FAKE_SENSORD_STATE"
	sqlite3 "$EMU_DB" "DELETE FROM THERMAL_SENSOR_DATA" || fail "sqlite3"
	streamerd_conf $kind "\"channel_name\": \"happy-$kind\""
	start_fake_sensord -n 120 -r 40 -m 200
	"$STREAMERD_BIN" --check -f "$STREAMERD_CONF" >"$T/check.out" 2>&1
	for stage in "config" "credential file permissions" "private key" "sensord socket" \
	    "hostname discovery" "token exchange" "pipe DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_PIPE"; do
		grep -q "^PASS $stage" "$T/check.out" || { cat "$T/check.out"; fail "--check ($kind): $stage did not pass"; }
	done
	if [ $kind != pat ]; then
		grep -q "fingerprint SHA256:[A-Za-z0-9+/]\{43\}=" "$T/check.out" || fail "no fingerprint"
		fp=$(openssl pkey -in "$STREAMER_KEY" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -binary | base64)
		grep -qF "SHA256:$fp" "$T/check.out" || fail "fingerprint differs from openssl's SHA256:$fp"
	fi
	start_streamerd
	wait_acked 200 30
	stop_streamerd
	stop_fake_sensord
	check_table 200 --values
	[ "$(acked)" -eq 200 ] || fail "acked $(acked), journaled 200"
	# one start line per start, saying what a person checks first
	[ "$(grep -c "streamerd [^ ]* starting: account $URL, pipe DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_PIPE, auth " \
		"$STREAMERD_LOG")" -eq $((n + 1)) ] || fail "not one start line per start"
	[ $kind = pat ] || grep -q "starting: .*, auth key-pair JWT, key fingerprint SHA256:$fp," \
		"$STREAMERD_LOG" || fail "the start line lacks the key's fingerprint"
	grep -q "PRODUCTION MODE\|=====" "$STREAMERD_LOG" && fail "a banner in the log"
	grep -q "^streamerd_committed_seq{[^}]*} 200$" "$STREAMERD_METRICS" || fail "metrics: committed seq"
	grep -q "^streamerd_pending_records{[^}]*} 0$" "$STREAMERD_METRICS" || fail "metrics: pending"
	grep -q "^streamerd_connections_opened_total{[^}]*} 1$" "$STREAMERD_METRICS" ||
		fail "more than one TLS connection: $(grep connections "$STREAMERD_METRICS")"
	grep -q "stats: rows appended 200, rows committed 200, committed seq 200" "$STREAMERD_LOG" ||
		fail "no final stats line"
	no_secrets "$STREAMERD_LOG" "$T/check.out"
	n=$((n + 1))
done
# The emulator saw few TLS handshakes: one per streamerd run, a few for --check.
hs=$(emu_stat tls_handshakes)
[ "$hs" -le 12 ] || fail "$hs TLS handshakes for 3 runs"
echo "ok: $n credential kinds, 200 rows each, exactly once with the right values"
