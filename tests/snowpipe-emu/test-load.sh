#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# emu-load against snowpipe-emu: in --store rows mode every row the load
# generator had accepted lands in SQLite exactly once, and keep-alive holds
# (one TLS handshake per channel); in --store count mode the counters agree.
# The lenient emulator (--no-strict), as these paths were written for it;
# test-strict.sh shows each strict behaviour next to its lenient one.
set -u
. "$TOP/tests/lib/harness.sh"
LOAD=$BUILD/bin/emu-load

start_emu --no-strict --no-limits --commit-lag-ms 50
out=$("$LOAD" --url "$URL" --cacert "$EMU_CA" --pat-file "$T/streamer.pat" --seconds 2 \
	--rows 300 --channels 2 --encoding zstd) || fail "emu-load (rows mode): $out"
echo "$out"
rows=$(printf '%s' "$out" | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')
reqs=$(printf '%s' "$out" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
[ "$rows" -gt 0 ] || fail "no rows sent"
AUTH='' req POST /_emu/commit
expect_eq "$(sql 'select count(*) from THERMAL_SENSOR_DATA')" "$rows" "rows in SQLite"
expect_eq "$(sql "select count(distinct CHANNEL || '|' || OFFSET_TOKEN || '|' || UUID) = count(*) from THERMAL_SENSOR_DATA")" 1 "no duplicates"
AUTH='' req GET /_emu/stats
expect_body "\"append\":{\"200\":$reqs}" "append count"
# set-up (one per channel), appends (one per channel), this stats and commit call
hs=$(json_field tls_handshakes)
[ "$hs" -le 8 ] || fail "$hs TLS handshakes for $reqs requests: no keep-alive"
stop_emu

rm -f "$EMU_DB" "$EMU_DB-wal" "$EMU_DB-shm"
start_emu --no-strict --no-limits --store count --commit-lag-ms 50
out=$("$LOAD" --url "$URL" --cacert "$EMU_CA" --pat-file "$T/streamer.pat" --seconds 2 \
	--rows 2000 --channels 2 --encoding gzip) || fail "emu-load (count mode): $out"
echo "$out"
rows=$(printf '%s' "$out" | sed -n 's/.*"rows":\([0-9]*\).*/\1/p')
AUTH='' req POST /_emu/commit
AUTH='' req GET /_emu/stats
expect_eq "$(json_field rows_committed)" "$rows" "rows counted"
expect_eq "$(json_field rows_errored)" 0 "rows with errors"
expect_eq "$(sql 'select count(*) from THERMAL_SENSOR_DATA')" 0 "count mode stores nothing"
stop_emu
echo ok
