#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The keys that shape streamerd's requests, seen at the emulator (its debug
# log names each append's Content-Encoding and User-Agent, its stats count
# requests by route):
#   compression     gzip, zstd and none: every append carries that encoding,
#                   and with none the bytes on the wire are the rows' bytes
#   user_agent_app  the app name in every append's User-Agent
#   role            the role the scoped token is asked for
#   url             the account host when account_url is not set
#   ca_file         the only CA trusted: the emulator's certificate with
#                   another CA's file is refused before any request
#   commit_poll_ms  at 1.5 s, a 6 s window of pending commits sees ~4
#                   status requests (the default 500 ms: ~12)
# Each run's records land exactly once.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100 -d

# run NAME MEMBERS: 30 records through channel NAME in appends of 10,
# exactly once.
run() {
	streamerd_conf pat "\"channel_name\": \"$1\", \"batch_max_rows\": 10${2:+, $2}"
	stream
}

stream() {
	sql "DELETE FROM THERMAL_SENSOR_DATA"
	rm -f "$FAKE_SENSORD_STATE"
	start_fake_sensord -n 30
	start_streamerd
	wait_acked 30 20
	stop_streamerd
	stop_fake_sensord
	check_table 30
}

# appends_of CHANNEL: the emulator's debug line of each append on it (the
# service stores an unquoted channel name upper-cased)
appends_of() {
	grep "channel $(printf '%s' "$1" | tr '[:lower:]' '[:upper:]'): append of " "$EMU_LOG"
}

for comp in gzip zstd none; do
	run "comp-$comp" "\"compression\": \"$comp\""
	appends_of "comp-$comp" >"$T/appends"
	[ -s "$T/appends" ] || fail "no append logged for compression $comp"
	grep -v "Content-Encoding $comp," "$T/appends" &&
		fail "compression $comp: appends with another encoding (above)"
	if [ "$comp" = none ]; then
		# bytes as decoded = bytes on the wire, for every append
		awk '{ for (i = 1; i < NF; i++) if ($i == "append") { d = $(i + 2); w = $(i + 4) }
			if (d != w + 0) bad++ } END { exit bad > 0 }' "$T/appends" ||
			fail "compression none: compressed appends: $(cat "$T/appends")"
	fi
	echo "compression $comp: $(wc -l <"$T/appends") appends, all $comp"
done

run ua '"user_agent_app": "itest-greenhouse/2.1"'
appends_of ua >"$T/appends"
grep -v 'User-Agent snowsense-streamerd/[^ ]* (Linux [^)]*) C/17 (app=itest-greenhouse/2.1)$' "$T/appends" &&
	fail "user_agent_app: appends without it in the User-Agent (above)"

# (a PAT is used as it is, with its own role: the role goes in a key-pair
# JWT's scp claim, the scope being the ingest host alone)
streamerd_conf jwt '"channel_name": "role", "batch_max_rows": 10, "role": "ITEST_ROLE"'
stream
grep -q "scoped token issued to STREAMER (role ITEST_ROLE, via key-pair JWT)" "$EMU_LOG" ||
	fail "role: no scoped token for ITEST_ROLE: $(grep 'scoped token issued' "$EMU_LOG")"

# url: the account host, with account_url absent (the account alone would
# name emuacct.snowflakecomputing.com, which is not reachable here)
streamerd_conf pat '"channel_name": "url"'
sed -i "s|\"account_url\": \"$URL\"|\"url\": \"$URL/\"|" "$STREAMERD_CONF"
if ! grep -q '"url"' "$STREAMERD_CONF" || grep -q account_url "$STREAMERD_CONF"; then
	fail "could not write a config with url instead of account_url"
fi
stream

# ca_file: the only CA trusted. Another CA's file: the emulator's
# certificate is refused, and no request reaches it.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other-ca.key" -out "$T/other-ca.crt" \
	-days 2 -subj "/CN=another CA" 2>/dev/null || fail "openssl req"
streamerd_conf pat '"channel_name": "ca"'
sed -i "s|\"ca_file\": \"$EMU_CA\"|\"ca_file\": \"$T/other-ca.crt\"|" "$STREAMERD_CONF"
grep -q other-ca.crt "$STREAMERD_CONF" || fail "could not point ca_file at another CA"
before=$(emu_stat requests_total)
rc=0
"$STREAMERD_BIN" --check -f "$STREAMERD_CONF" >"$T/check.out" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "--check passed with the wrong CA: $(cat "$T/check.out")"
grep -q '^FAIL hostname discovery: SSL certificate problem' "$T/check.out" ||
	fail "ca_file of another CA: $(cat "$T/check.out")"
# the stats request itself is the one more
expect_eq "$(emu_stat requests_total)" $((before + 1)) "requests that reached the emulator through the wrong CA"

# commit_poll_ms: 5 records/s, flushed every 200 ms, committed after 1 s:
# there is always a batch to poll for.
stop_emu
start_emu --commit-lag-ms 1000
rm -f "$FAKE_SENSORD_STATE"
streamerd_conf pat '"channel_name": "poll", "commit_poll_ms": 1500'
start_fake_sensord -r 5
start_streamerd
wait_acked 5 20
status_requests() {
	AUTH='' req GET /_emu/stats
	printf '%s' "$BODY" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"]["status"].get("200", 0))'
}
s0=$(status_requests) t0=$(now_ms)
sleep 6
s1=$(status_requests) t1=$(now_ms)
a1=$(acked)
stop_streamerd
stop_fake_sensord
polls=$((s1 - s0)) ms=$((t1 - t0))
echo "commit_poll_ms 1500: $polls status requests in $ms ms, $a1 records acked"
# 1.5 s apart: ms/1500 of them, give or take a turn at each end and one
# for a loaded machine
if [ "$polls" -lt $((ms / 1500 - 2)) ] || [ "$polls" -gt $((ms / 1500 + 2)) ]; then
	fail "commit_poll_ms 1500: $polls status requests in $ms ms"
fi
[ "$a1" -ge 20 ] || fail "commit_poll_ms 1500: only $a1 records acked in ~7 s at 5/s"
echo "ok: compression, user_agent_app, role, url, ca_file and commit_poll_ms reach the service"
