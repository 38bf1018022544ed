#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Damage on disk between runs: a segment cut in the middle of an entry (a
# torn tail) and a byte flipped inside an entry. --verify-journal reports
# both; the restart keeps every good entry, says what it found, and carries
# on; a client replaying from the oldest record is told about the records
# that are gone (gaps) and gets every other one. The torn record had been
# handed out before the stop, so its seq is never handed out again.
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf '"journal": {"fsync": "never"},'

start_sensord --interval 0.05
wait_sensord last_seq 40
stop_sensord
seg=$(find "$SENSORD_STATE" -name 'seg-*.jnl' | sort | tail -n 1)

# 1. torn tail
size=$(stat -c %s "$seg")
truncate -s $((size - 7)) "$seg"
rc=0; "$BIN/sensord" -f "$SENSORD_CONF" --verify-journal >"$T/verify" || rc=$?
[ $rc -eq 1 ] || fail "verify of a torn journal: exit $rc"
grep -q 'DAMAGED: torn tail' "$T/verify" || fail "verify: $(cat "$T/verify")"
last=$(sed -n 's/.*seq [0-9]*\.\.\([0-9]*\), [0-9]* entries.*/\1/p' "$T/verify")
start_sensord --interval 10
grep -q 'torn tail at offset' "$SENSORD_LOG" || fail "recovery did not report the torn tail"
[ "$(sensord_status last_seq)" = "$last" ] || fail "last seq after recovery: $(sensord_status last_seq), want $last"
stop_sensord
"$BIN/sensord" -f "$SENSORD_CONF" --verify-journal >"$T/verify" || fail "not clean after recovery: $(cat "$T/verify")"

# 2. a byte flipped inside the payload of seq 10
python3 - "$seg" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
off = 40
while True:
    ln, crc, seq = struct.unpack_from("<IIQ", b, off)
    if seq == 10:
        b[off + 24 + 5] ^= 0x40
        break
    off += 24 + ln
open(p, "wb").write(b)
PY
rc=0; "$BIN/sensord" -f "$SENSORD_CONF" --verify-journal >"$T/verify" || rc=$?
[ $rc -eq 1 ] || fail "verify of a flipped byte: exit $rc"
grep -q 'DAMAGED: 1 entries with a bad CRC' "$T/verify" || fail "verify: $(cat "$T/verify")"
start_sensord --interval 0.05
grep -q '1 damaged entry skipped' "$SENSORD_LOG" || fail "recovery did not report the bad entry"
"$BIN/sdclient" -s "$SENSORD_SOCK" follow oldest $((last + 2)) >"$T/follow" || fail "replay: $(tail -n 3 "$T/follow")"
grep -q '^gap=10\.\.10$' "$T/follow" || fail "no gap for seq 10: $(head -n 12 "$T/follow")"
grep -q "^gap=$((last + 1))\.\.$((last + 1))$" "$T/follow" ||
	fail "no gap for the torn seq $((last + 1)): $(grep gap "$T/follow")"
[ "$(grep -c '^rec ' "$T/follow")" -eq $((last + 2)) ] || fail "records missing"
grep -q "^rec seq=$((last + 1)) " "$T/follow" && fail "the torn record's seq was handed out again"
grep -q "^rec seq=$((last + 2)) " "$T/follow" || fail "no new record after the damage"
grep -q '^rec seq=10 ' "$T/follow" && fail "the damaged record was sent"
stop_sensord
rc=0; "$BIN/sensord" -f "$SENSORD_CONF" --verify-journal >"$T/verify" || rc=$?
[ $rc -eq 1 ] || fail "damage must stay reported until retention removes it"
echo "ok"
