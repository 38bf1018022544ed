#!/bin/sh
# Retention: small segments and a small max_bytes force unacked records
# out — counted in status and metrics, logged with their seq range, and a
# client asking for them gets a gap. Then acked segments are removed
# without counting anything as dropped. (Retention by age is covered by
# test_journal, where time can be chosen.)
. "$TOP/tests/integration/sensord-common.inc"
write_conf '"journal": {"fsync": "never", "segment_bytes": 4096, "max_bytes": 65536},'

start_sensord --interval 0.01
wait_for records_dropped 1 300
grep -q 'max_bytes forced out unacked records 1\.\.[0-9]*' "$dir/log" || fail "no log line for the drop"
"$bin/sdclient" -s "$sock" follow 1 5 >"$dir/follow" || fail "follow from 1"
first=$(sed -n 's/^gap=1\.\.\([0-9]*\)$/\1/p' "$dir/follow" | head -n 1)
[ -n "$first" ] || fail "no gap for dropped records: $(head -n 3 "$dir/follow")"
sleep 1.1	# metrics are written with each record
dropped=$(sed -n 's/^sensord_records_dropped_total{device="itest"} //p' "$dir/run/sensord.prom")
[ "${dropped:-0}" -gt 0 ] || fail "metrics: records_dropped $dropped"
total=$(du -cb "$dir"/state/seg-*.jnl | tail -n 1 | cut -f1)
[ "$total" -le $((65536 + 4096)) ] || fail "journal holds $total bytes"
stop_sensord

# acked segments go, and nothing counts as dropped
rm -rf "$dir/state"
write_conf '"journal": {"fsync": "never", "segment_bytes": 4096, "max_bytes": 67108864},'
start_sensord --interval 0.01
wait_for last_seq 200
[ "$(ls "$dir"/state/seg-*.jnl | wc -l)" -gt 3 ] || fail "expected several segments"
last=$(field last_seq)
"$bin/sdclient" -s "$sock" ack "$last" >/dev/null || fail "ack"
# every segment holding only acked records goes (one holds ~22 records)
wait_for first_seq $((last - 30)) 50
[ "$(field records_dropped)" = 0 ] || fail "acked removal counted as a drop"
stop_sensord
"$bin/sensord" -f "$conf" --verify-journal >/dev/null || fail "verify after retention"
echo "ok"
