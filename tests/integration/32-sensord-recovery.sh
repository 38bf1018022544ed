#!/bin/sh
# Damage on disk between runs: a segment cut in the middle of an entry (a
# torn tail) and a byte flipped inside an entry. --verify-journal reports
# both; the restart keeps every good entry, says what it found, and carries
# on; a client replaying from the oldest record is told about the records
# that are gone (gaps) and gets every other one. The torn record had been
# handed out before the stop, so its seq is never handed out again.
. "$TOP/tests/integration/sensord-common.inc"
write_conf '"journal": {"fsync": "never"},'

start_sensord --interval 0.05
wait_for last_seq 40
stop_sensord
seg=$(ls "$dir"/state/seg-*.jnl | tail -n 1)

# 1. torn tail
size=$(stat -c %s "$seg")
truncate -s $((size - 7)) "$seg"
rc=0; "$bin/sensord" -f "$conf" --verify-journal >"$dir/verify" || rc=$?
[ $rc -eq 1 ] || fail "verify of a torn journal: exit $rc"
grep -q 'DAMAGED: torn tail' "$dir/verify" || fail "verify: $(cat "$dir/verify")"
last=$(sed -n 's/.*seq [0-9]*\.\.\([0-9]*\), [0-9]* entries.*/\1/p' "$dir/verify")
start_sensord --interval 10
grep -q 'torn tail at offset' "$dir/log" || fail "recovery did not report the torn tail"
[ "$(field last_seq)" = "$last" ] || fail "last seq after recovery: $(field last_seq), want $last"
stop_sensord
"$bin/sensord" -f "$conf" --verify-journal >"$dir/verify" || fail "not clean after recovery: $(cat "$dir/verify")"

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
rc=0; "$bin/sensord" -f "$conf" --verify-journal >"$dir/verify" || rc=$?
[ $rc -eq 1 ] || fail "verify of a flipped byte: exit $rc"
grep -q 'DAMAGED: 1 entries with a bad CRC' "$dir/verify" || fail "verify: $(cat "$dir/verify")"
start_sensord --interval 0.05
grep -q '1 damaged entry skipped' "$dir/log" || fail "recovery did not report the bad entry"
"$bin/sdclient" -s "$sock" follow oldest $((last + 2)) >"$dir/follow" || fail "replay: $(tail -n 3 "$dir/follow")"
grep -q '^gap=10\.\.10$' "$dir/follow" || fail "no gap for seq 10: $(head -n 12 "$dir/follow")"
grep -q "^gap=$((last + 1))\.\.$((last + 1))$" "$dir/follow" ||
	fail "no gap for the torn seq $((last + 1)): $(grep gap "$dir/follow")"
[ "$(grep -c '^rec ' "$dir/follow")" -eq $((last + 2)) ] || fail "records missing"
grep -q "^rec seq=$((last + 1)) " "$dir/follow" && fail "the torn record's seq was handed out again"
grep -q "^rec seq=$((last + 2)) " "$dir/follow" || fail "no new record after the damage"
grep -q '^rec seq=10 ' "$dir/follow" && fail "the damaged record was sent"
stop_sensord
rc=0; "$bin/sensord" -f "$conf" --verify-journal >"$dir/verify" || rc=$?
[ $rc -eq 1 ] || fail "damage must stay reported until retention removes it"
echo "ok"
