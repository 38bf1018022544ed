#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Retention: small segments and a small max_bytes force unacked records
# out — counted in status and metrics, logged with their seq range, and a
# client asking for them gets a gap. Then acked segments are removed
# without counting anything as dropped. (Retention by age is covered by
# test_journal, where time can be chosen.)
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf '"journal": {"fsync": "never", "segment_bytes": 4096, "max_bytes": 65536},'

start_sensord --interval 0.01
wait_sensord records_dropped 1 30
grep -q 'max_bytes forced out unacked records 1\.\.[0-9]*' "$SENSORD_LOG" || fail "no log line for the drop"
"$BIN/sdclient" -s "$SENSORD_SOCK" follow 1 5 >"$T/follow" || fail "follow from 1"
first=$(sed -n 's/^gap=1\.\.\([0-9]*\)$/\1/p' "$T/follow" | head -n 1)
[ -n "$first" ] || fail "no gap for dropped records: $(head -n 3 "$T/follow")"
sleep 1.1	# metrics are written with each record
dropped=$(sed -n 's/^sensord_records_dropped_total{device="itest"} //p' "$SENSORD_METRICS")
[ "${dropped:-0}" -gt 0 ] || fail "metrics: records_dropped $dropped"
total=$(du -cb "$SENSORD_STATE"/seg-*.jnl | tail -n 1 | cut -f1)
[ "$total" -le $((65536 + 4096)) ] || fail "journal holds $total bytes"
stop_sensord

# acked segments go, and nothing counts as dropped
rm -rf "$SENSORD_STATE"
sensord_conf '"journal": {"fsync": "never", "segment_bytes": 4096, "max_bytes": 67108864},'
start_sensord --interval 0.01
wait_sensord last_seq 200
[ "$(find "$SENSORD_STATE" -name 'seg-*.jnl' | wc -l)" -gt 3 ] || fail "expected several segments"
last=$(sensord_status last_seq)
"$BIN/sdclient" -s "$SENSORD_SOCK" ack "$last" >/dev/null || fail "ack"
# every segment holding only acked records goes (one holds ~22 records)
wait_sensord first_seq $((last - 30)) 5
[ "$(sensord_status records_dropped)" = 0 ] || fail "acked removal counted as a drop"
stop_sensord
"$BIN/sensord" -f "$SENSORD_CONF" --verify-journal >/dev/null || fail "verify after retention"
echo "ok"
