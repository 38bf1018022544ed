#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An entry that went bad on the card after it was written (a flipped byte
# in a closed segment) reaches a client as a gap — and sensord says it is
# damage, at warning level, and counts the seqs in
# sensord_records_damaged_total once, however many clients read past it
# (it used to be an info line "gap", like a retention gap).
set -eu
. "$TOP/tests/lib/harness.sh"
need_cmd python3
sensord_conf '"journal": {"fsync": "never", "segment_bytes": 4096},'
start_sensord --interval 0.02
wait_sensord last_seq 60
stop_sensord
# flip a byte of seq 5's payload in the first segment (entry: length u32,
# CRC32C u32, seq u64, time i64, payload; after a 40-byte header)
python3 - "$SENSORD_STATE/seg-00000000000000000001.jnl" <<'EOF' || fail "cannot corrupt seq 5"
import struct, sys
path = sys.argv[1]
with open(path, "r+b") as f:
    data = f.read()
    off = 40
    while off + 24 <= len(data):
        length, _, seq = struct.unpack_from("<IIQ", data, off)
        if seq == 5:
            f.seek(off + 24 + 3)
            f.write(bytes([data[off + 24 + 3] ^ 0x40]))
            sys.exit(0)
        off += 24 + length
sys.exit(1)
EOF
start_sensord --interval 0.5
for c in a b; do
	"$BIN/sdclient" -s "$SENSORD_SOCK" follow oldest 20 >"$T/$c" 2>&1 || fail "client $c: $(cat "$T/$c")"
	grep -q '^gap=5\.\.5$' "$T/$c" || fail "client $c got no gap for seq 5: $(head -n 8 "$T/$c")"
	grep -q '^rec seq=5 ' "$T/$c" && fail "client $c got seq 5"
done
grep -q 'warning\] journal damage: seqs 5\.\.5 cannot be read (bad CRC); client uid=[0-9]* pid=[0-9]* gets them as a gap' \
	"$SENSORD_LOG" || fail "no warning naming the damaged seq"
sleep 0.6	# the metrics file is written with the next record
grep -q '^sensord_records_damaged_total{device="itest"} 1$' "$SENSORD_METRICS" ||
	fail "metrics: $(grep damaged "$SENSORD_METRICS")"
stop_sensord
echo "ok: a damaged entry is a gap to each client, a warning and one count"
