#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The keys that shape streamerd's appends, seen in what landed: every
# batch is one append whose rows share the batch's end offset token, so the
# table tells each append's rows and bytes (RAW_DATA is the row's NDJSON
# line).
#   batch_max_bytes  a 4096-byte limit: a batch is sealed at the row that
#                    reaches it, so what a batch holds before its last row
#                    stays under 4096 bytes (ignored, a 200-record backlog
#                    goes out in a few large appends)
#   batch_max_rows   at most 50 rows per append, full ones when a backlog
#                    is drained
#   batch_max_wire_bytes  a 65536-byte cap on the compressed body: batches
#                    close by wire bytes, each full one carrying several
#                    times that much NDJSON (zstd)
#   queue_max_wire_bytes  room for two such bodies, uncompressed: the batch
#                    being filled is squeezed by the one being sent
#   flush_interval_ms  at 10 records/s, a 2.5 s flush interval seals
#                    batches of ~25 rows (the default 1 s: ~10)
# Each time every record lands exactly once, with its values.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100

# run NAME MEMBERS FAKE_SENSORD_OPTIONS: a fresh journal and table,
# streamerd on channel NAME until the journal is acked and checked.
run() {
	sql "DELETE FROM THERMAL_SENSOR_DATA"
	rm -f "$FAKE_SENSORD_STATE"
	streamerd_conf pat "\"channel_name\": \"$1\", $2"
	# shellcheck disable=SC2086 # options
	start_fake_sensord $3
}

# finish N: once records 1..N are acked, each must be in the table once.
finish() {
	n=$1
	wait_acked "$n" 30
	stop_streamerd
	stop_fake_sensord
	check_table "$n" --values
}

# per-append rows, raw bytes and raw bytes before the last row, in seq order
batches() {
	sql "SELECT count(*), sum(length(RAW_DATA) + 1),
		sum(length(RAW_DATA) + 1) - (SELECT length(RAW_DATA) + 1 FROM THERMAL_SENSOR_DATA l
			WHERE l.OFFSET_TOKEN = t.OFFSET_TOKEN ORDER BY l.ROWID DESC LIMIT 1)
		FROM THERMAL_SENSOR_DATA t GROUP BY OFFSET_TOKEN ORDER BY min(ROWID)" | tr '|' ' '
}

# batch_max_bytes: a 200-record backlog (~740 bytes a row).
run bytes '"batch_max_bytes": 4096' "-n 200"
start_streamerd
finish 200
batches >"$T/bytes"
awk '$3 >= 4096 { bad++ } $2 >= 4096 { full++ } END {
	printf "batch_max_bytes 4096: %d appends, %d of them full\n", NR, full
	exit !(NR >= 30 && !bad && full >= NR - 2) }' "$T/bytes" ||
	fail "batch_max_bytes 4096 not honoured (rows, bytes, bytes before the last row per append): $(cat "$T/bytes")"

# batch_max_rows: the same backlog in appends of 50 rows.
run rows '"batch_max_rows": 50' "-n 200"
start_streamerd
finish 200
batches >"$T/rows"
expect_eq "$(awk '{ print $1 }' "$T/rows" | tr '\n' ' ')" "50 50 50 50 " "rows per append with batch_max_rows 50"

# batch_max_wire_bytes: a 3000-record backlog (~2.2 MB of NDJSON, a tenth
# of that compressed); the flush interval is long enough to play no part.
run wire '"batch_max_wire_bytes": 65536, "compression": "zstd", "flush_interval_ms": 3000' "-n 3000"
start_streamerd
finish 3000
batches >"$T/wire"
awk '{ raw[NR] = $2 } END {
	for (i = 1; i < NR; i++) if (raw[i] < 3 * 65536) bad++
	printf "batch_max_wire_bytes 65536: %d appends of", NR
	for (i = 1; i <= NR; i++) printf " %d", raw[i]
	printf " NDJSON bytes\n"
	exit !(NR >= 2 && !bad) }' "$T/wire" ||
	fail "batch_max_wire_bytes 65536: batches did not close by compressed bytes (rows, bytes, bytes before the last row per append): $(cat "$T/wire")"

# queue_max_wire_bytes: uncompressed 64 KiB bodies with room for two, so
# the open batch is squeezed by the one being sent; every row lands once and
# no body passes the cap.
run queue '"batch_max_wire_bytes": 65536, "queue_max_wire_bytes": 131072, "compression": "none", "flush_interval_ms": 3000' "-n 3000"
start_streamerd
finish 3000
batches >"$T/queue"
awk '$2 > 65536 { bad++ } END { exit !(NR >= 30 && !bad) }' "$T/queue" ||
	fail "queue_max_wire_bytes 131072: appends (rows, bytes, bytes before the last row): $(cat "$T/queue")"
echo "queue_max_wire_bytes 131072: $(wc -l <"$T/queue") appends of at most 65536 bytes"

# flush_interval_ms: 10 records/s for ~8 s, sealed by time alone.
run flush '"flush_interval_ms": 2500' "-r 10 -m 80"
start_streamerd
finish 80
batches >"$T/flush"
# the first and last batches may be partial (start-up, end of the journal)
sed '1d;$d' "$T/flush" | awk '$1 < 18 || $1 > 35 { bad++ } END { exit !(NR >= 1 && !bad) }' ||
	fail "flush_interval_ms 2500 at 10 records/s: rows per append $(awk '{ print $1 }' "$T/flush" | tr '\n' ' ')"
echo "flush_interval_ms 2500: rows per append $(awk '{ print $1 }' "$T/flush" | tr '\n' ' ')"
stop_emu
echo "ok: batch_max_bytes, batch_max_rows, batch_max_wire_bytes, queue_max_wire_bytes and flush_interval_ms shape the appends"
