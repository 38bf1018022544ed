#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# journal.fsync and journal.fsync_interval_ms, seen as the system calls
# sensord makes: strace attached to the running daemon counts its
# fdatasync calls over a few seconds of records every 50 ms.
#   fsync always    one fdatasync per record
#   fsync never     none
#   fsync interval  with fsync_interval_ms 250, about four a second
#                   (the default interval, 1 s: about one)
# (journal.segment_bytes and max_bytes: retention.sh; max_age_days:
# test_journal, where time can be chosen.)
set -eu
. "$TOP/tests/lib/harness.sh"
need_cmd strace

# syncs JOURNAL_MEMBERS: starts sensord with that journal block, counts
# fdatasync calls and records written over ~3 s; sets SYNCS, RECORDS, MS.
syncs() {
	sensord_conf "\"journal\": {$1},"
	start_sensord --interval 0.05
	: >"$T/strace.err"
	strace -f -e trace=fdatasync -o "$T/strace.out" -p "$SENSORD_PID" 2>"$T/strace.err" &
	sp=$!
	track $sp strace
	wait_for 10 "strace to attach" grep -q attached "$T/strace.err"
	w0=$(sensord_status records_written) t0=$(now_ms)
	sleep 3
	w1=$(sensord_status records_written) t1=$(now_ms)
	stop_pid $sp strace 10 any
	stop_sensord
	SYNCS=$(grep -c 'fdatasync(' "$T/strace.out" || true)
	RECORDS=$((w1 - w0)) MS=$((t1 - t0))
	echo "journal {$1}: $SYNCS fdatasync for $RECORDS records in $MS ms"
	[ "$RECORDS" -ge 20 ] || fail "only $RECORDS records in $MS ms at 20 a second"
}

syncs '"fsync": "always"'
# one per record (give or take the record being written at either end)
[ "$SYNCS" -ge $((RECORDS - 2)) ] || fail "fsync always: $SYNCS fdatasync for $RECORDS records"

syncs '"fsync": "never"'
expect_eq "$SYNCS" 0 "fdatasync calls with fsync never"

syncs '"fsync": "interval", "fsync_interval_ms": 250'
want=$((MS / 250))
if [ "$SYNCS" -lt $((want / 2)) ] || [ "$SYNCS" -gt $((want * 3 / 2 + 2)) ]; then
	fail "fsync interval 250 ms: $SYNCS fdatasync in $MS ms, expected about $want"
fi
[ "$SYNCS" -lt $((RECORDS / 2)) ] || fail "fsync interval: $SYNCS fdatasync for $RECORDS records"
echo "ok: fsync always, never, and every 250 ms"
