#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A full disk: the journal on a 96 KiB tmpfs fills up, records that cannot
# be journaled are lost — and counted in sensord_records_lost_total, which
# keeps being written (the metrics file is elsewhere), besides the rate-
# limited log line. sensord keeps running and no client is sent a record
# that was not journaled. (That segments stay while the acked file cannot
# be written is test_journal's: it needs a failure it can lift.)
set -eu
. "$TOP/tests/lib/harness.sh"
need_root
need_cmd mount umount mountpoint
mkdir "$T/state"
mount -t tmpfs -o size=96k,mode=0700 snowsense-test "$T/state" ||
	skip "cannot mount a tmpfs here"
_unmount() { umount "$T/state" 2>/dev/null || umount -l "$T/state" 2>/dev/null || true; }
at_exit _unmount
sensord_conf '"journal": {"fsync": "never", "segment_bytes": 8192, "max_bytes": 1073741824},'
start_sensord --interval 0.01
lost() { sed -n 's/^sensord_records_lost_total{device="itest"} //p' "$SENSORD_METRICS"; }
over() { [ "$(lost)" -ge 20 ]; }
wait_for 60 "20 records lost to the full disk" over
grep -q 'error\] record [0-9]* not journaled (1 lost so far): No space left on device' "$SENSORD_LOG" ||
	fail "no log line for the first lost record"
lines=$(grep -c 'not journaled' "$SENSORD_LOG")
[ "$lines" -le 2 ] || fail "$lines log lines for $(lost) lost records"
alive "$SENSORD_PID" || fail "sensord died on the full disk"
last=$(sensord_status last_seq)
written=$(sensord_status records_written)
expect_eq "$last" "$written" "last seq and records journaled (no seq given to a lost record)"
stop_sensord
echo "ok: $(lost) records lost to a full disk, counted in the metrics, $lines log line(s)"
