#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# fakei2c.so under with-chips: a driver-like client (i2c-poke) reaches the
# chip models through open/ioctl(I2C_RDWR, I2C_SLAVE, I2C_FUNCS)/read/write
# on the configured device only, errors surface as the kernel's errno, the
# control file changes the chips while the client runs (also after a
# seccomp sandbox), the stats file tells what the chips received, and any
# other path (regular file, /dev/null, an unconfigured /dev/i2c-1) is left
# to the real libc.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd python3
poke=$BIN/i2c-poke
wc=$WITH_CHIPS
need_built "$poke" "$BUILD/lib/fakei2c.so"

# expect NAME EXPECTED-FILE ACTUAL-FILE
expect() {
	if ! diff -u "$2" "$3"; then fail "$1"; else echo "ok: $1"; fi
}

# stat_get STATSFILE PYTHON-EXPR (j = the stats JSON)
stat_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

cat >"$T/s.json" <<'EOF'
{ "scd4x": { "raw": [500, 26215, 24249] },
  "sgp30": { "eco2": 450, "tvoc": 12 },
  "icp10125": { "p": 101325, "t": 25 } }
EOF
printf 'hello from a regular file\nline 2\n' >"$T/plain.txt"

# 1. the frames of docs/chips.md §6 through I2C_RDWR and through I2C_SLAVE + read/write.
"$wc" "$T/s.json" --stats "$T/stats1.json" -- "$poke" \
	open /dev/i2c-1 cloexec funcs \
	xwr 63 EFC8 3 \
	xw 63 C59500669C xw 63 C7F7 xr 63 3 xw 63 C7F7 xr 63 3 \
	xw 63 6825 xr 63 9 sleep 7 xr 63 9 xr 63 9 \
	xw 62 3682 sleep 2 xr 62 12 \
	xw 62 241D07E649 xw 62 241D07E648 sleep 2 \
	xw 62 21B1 xw 62 3682 xw 62 E00003DB42 \
	xrw 63 3 EFC8 \
	xw 40 00 \
	slave 58 w 202F sleep 11 r 3 r 3 w 2003 sleep 11 w 20610F8062 \
	close >"$T/out1" 2>"$T/err1"
cat >"$T/want1" <<'EOF'
open ok
cloexec yes
funcs 0eff0009
xwr 01 48 F1
xw ok
xw ok
xr 03 E8 D4
xw ok
xr 07 D0 2B
xw ok
xr EREMOTEIO
xr 66 66 93 AE D6 B1 5F 00 FF
xr EREMOTEIO
xw ok
xr F8 96 31 9F 07 C2 3B BE 89 FF FF FF
xw EREMOTEIO
xw ok
xw ok
xw EREMOTEIO
xw ok
xrw EOPNOTSUPP
xw EREMOTEIO
slave ok
w ok
r 00 22 65
r EREMOTEIO
w ok
w ok
close ok
EOF
expect "frames, NACKs and errno through the preload" "$T/want1" "$T/out1"
[ -s "$T/err1" ] && { echo "stderr:"; cat "$T/err1"; }

# 2. what the chips received, from the stats file
s=$T/stats1.json
[ "$(stat_get "$s" 'j["chips"]["scd4x"]["last_args"]["0xe000"]')" = "[987]" ] || fail "stats: ambient pressure word"
[ "$(stat_get "$s" 'j["chips"]["scd4x"]["last_args"]["0x241d"]')" = "[2022]" ] || fail "stats: T offset word (bad CRC must not count)"
[ "$(stat_get "$s" 'j["chips"]["scd4x"]["commands"]["0x241d"]')" = "1" ] || fail "stats: T offset count"
[ "$(stat_get "$s" 'j["chips"]["scd4x"]["mode"]')" = "periodic" ] || fail "stats: SCD4x mode"
[ "$(stat_get "$s" 'j["chips"]["scd4x"]["rejected"]')" = "1" ] || fail "stats: command refused in periodic mode"
[ "$(stat_get "$s" 'j["chips"]["sgp30"]["absolute_humidity"]')" = "3968" ] || fail "stats: SGP30 AH"
[ "$(stat_get "$s" 'j["chips"]["sgp30"]["iaq"]')" = "True" ] || fail "stats: SGP30 iaq"
[ "$(stat_get "$s" 'j["chips"]["icp10125"]["commands"]["0xc7f7"]')" = "2" ] || fail "stats: OTP reads"
[ "$(stat_get "$s" 'j["preload"]["transfers"]')" = "24" ] || fail "stats: transfer count $(stat_get "$s" 'j["preload"]')"
echo "ok: stats checked"

# 3. other paths are untouched: a regular file, /dev/null (real ENOTTY), and
# /dev/i2c-1 itself when the library is told to fake another path.
"$wc" "$T/s.json" --device "$T/fake-i2c" -- "$poke" \
	cat "$T/plain.txt" open /dev/null funcs close \
	open "$T/fake-i2c" funcs xwr 63 EFC8 3 close \
	openat "$T/fake-i2c" xwr 63 EFC8 3 close >"$T/out3" 2>&1
cat >"$T/want3" <<'EOF'
cat hello from a regular file
open ok
funcs ENOTTY
close ok
open ok
funcs 0eff0009
xwr 01 48 F1
close ok
openat ok
xwr 01 48 F1
close ok
EOF
expect "pass-through of other paths, --device" "$T/want3" "$T/out3"
[ -e "$T/fake-i2c" ] && fail "the faked device path was created on disk"
if [ ! -e /dev/i2c-1 ]; then
	"$wc" "$T/s.json" --device "$T/fake-i2c" -- "$poke" open /dev/i2c-1 >"$T/out3b" 2>&1
	echo "open ENOENT" >"$T/want3b"
	expect "unconfigured /dev/i2c-1 reaches the real libc" "$T/want3b" "$T/out3b"
fi

# 4. control file: applied at open, then changed while the client runs,
# after it has sandboxed itself with seccomp (kill on any other syscall).
echo '{"sgp30": {"present": false}}' >"$T/ctl"
sandbox=sandbox
[ "${SAN:-}" = 1 ] && sandbox=   # ASan needs more syscalls than the allow-list
"$wc" "$T/s.json" --control "$T/ctl" --stats "$T/stats4.json" -- "$poke" \
	open /dev/i2c-1 $sandbox xw 58 202F xwr 63 EFC8 3 sleep 1500 \
	xwr 63 EFC8 3 xwr 63 EFC8 3 xwr 63 EFC8 3 sleep 1 xw 58 202F xw 62 3682 >"$T/out4" 2>&1 &
pid=$!
track $pid i2c-poke
transfers() { [ "$(stat_get "$1" 'j["preload"]["transfers"]')" = "$2" ]; }
wait_for 5 "the client's first transfers" transfers "$T/stats4.json" 3
printf '{"icp10125": {"nack": 2}, "sgp30": {"present": true}, "scd4x": {"unplug": true}}\n' >"$T/ctl.new"
mv "$T/ctl.new" "$T/ctl"
rc=0
wait "$pid" || rc=$?
untrack "$pid"
[ $rc -eq 0 ] || fail "client under sandbox exited $rc (killed by seccomp?)"
{
	echo "open ok"
	[ -n "$sandbox" ] && echo "sandbox ok"
	cat <<'EOF'
xw EREMOTEIO
xwr 01 48 F1
xwr EREMOTEIO
xwr EREMOTEIO
xwr 01 48 F1
xw ok
xw EREMOTEIO
EOF
} >"$T/want4"
expect "control file at open and at run time (sandboxed)" "$T/want4" "$T/out4"
[ "$(stat_get "$T/stats4.json" 'j["preload"]["control_applied"]')" = 2 ] || fail "stats: control applied twice"

# 4b. the control path can no longer be opened or stat'ed (as after a
# privilege drop): an in-place rewrite still reaches the chips through the
# descriptor the library opened at start.
echo '{"comment": "start"}' >"$T/ctl2"
if [ -z "$sandbox" ]; then
	echo "skip: sandbox-nofiles under SAN"
else
	"$wc" "$T/s.json" --control "$T/ctl2" --stats "$T/stats4b.json" -- "$poke" \
		open /dev/i2c-1 sandbox-nofiles cat "$T/plain.txt" xwr 63 EFC8 3 sleep 1500 \
		xwr 63 EFC8 3 xwr 63 EFC8 3 >"$T/out4b" 2>&1 &
	pid=$!
	track $pid i2c-poke
	wait_for 5 "the client's first transfer" transfers "$T/stats4b.json" 2
	printf '{"icp10125": {"nack": 1}, "comment": "in place"}\n' >"$T/ctl2"
	rc=0
	wait "$pid" || rc=$?
	untrack "$pid"
	[ $rc -eq 0 ] || fail "client under sandbox-nofiles exited $rc"
	printf 'open ok\nsandbox-nofiles ok\ncat EACCES\nxwr 01 48 F1\nxwr EREMOTEIO\nxwr 01 48 F1\n' >"$T/want4b"
	expect "control rewritten in place, path unreachable" "$T/want4b" "$T/out4b"
fi

# 5. time_scale: 10x faster chips (SCD4x sample after 0.5 s, not 5 s)
printf '{"time_scale": 10, "scd4x": {"co2": 700}}\n' >"$T/fast.json"
"$wc" "$T/fast.json" -- "$poke" open /dev/i2c-1 xw 62 21B1 sleep 600 \
	xw 62 E4B8 sleep 2 xr 62 3 xw 62 EC05 sleep 2 xr 62 3 >"$T/out5" 2>&1
printf 'open ok\nxw ok\nxw ok\nxr 80 06 04\nxw ok\nxr 02 BC 9A\n' >"$T/want5"
expect "time_scale" "$T/want5" "$T/out5"

# 6. scenario errors and device faults surface at open
printf '{"scd4x": {"co3": 1}}\n' >"$T/bad.json"
"$wc" "$T/bad.json" -- "$poke" open /dev/i2c-1 >"$T/out6" 2>"$T/err6"
grep -q '^open EINVAL$' "$T/out6" || fail "bad scenario: open should fail EINVAL"
grep -q 'co3' "$T/err6" || fail "bad scenario: message should name the key"
printf '{"device": {"open_errno": "EACCES"}, "scd4x": {}}\n' >"$T/eacces.json"
"$wc" "$T/eacces.json" -- "$poke" open /dev/i2c-1 >"$T/out6b" 2>&1
echo "open EACCES" >"$T/want6b"
expect "device.open_errno" "$T/want6b" "$T/out6b"

# 7. the shipped scenarios load
for f in "$TOP"/tests/fakei2c/scenarios/*.json; do
	out=$("$wc" "$f" -- "$poke" open /dev/i2c-1 xwr 63 EFC8 3 2>&1)
	[ "$out" = "$(printf 'open ok\nxwr 01 48 F1')" ] || fail "scenario $f: $out"
done
echo "ok: shipped scenarios load"
echo "all fakei2c preload checks passed"
