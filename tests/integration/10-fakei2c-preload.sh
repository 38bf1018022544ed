#!/bin/sh
# fakei2c.so under with-chips: a driver-like client (i2c-poke) reaches the
# chip models through open/ioctl(I2C_RDWR, I2C_SLAVE, I2C_FUNCS)/read/write
# on the configured device only, errors surface as the kernel's errno, the
# control file changes the chips while the client runs (also after a
# seccomp sandbox), the stats file tells what the chips received, and any
# other path (regular file, /dev/null, an unconfigured /dev/i2c-1) is left
# to the real libc.
set -u
: "${BUILD:?}" "${TOP:?}"
poke=$BUILD/bin/i2c-poke
wc=$TOP/tests/fakei2c/with-chips
if [ ! -x "$poke" ] || [ ! -r "$BUILD/lib/fakei2c.so" ]; then echo "i2c-poke or fakei2c.so not built"; exit 1; fi #{ echo "i2c-poke or fakei2c.so not built"; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect NAME EXPECTED-FILE ACTUAL-FILE
expect() {
	if ! diff -u "$2" "$3"; then fail "$1"; else echo "ok: $1"; fi
}

# stat_get STATSFILE PYTHON-EXPR (j = the stats JSON)
stat_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

cat >"$tmp/s.json" <<'EOF'
{ "scd4x": { "raw": [500, 26215, 24249] },
  "sgp30": { "eco2": 450, "tvoc": 12 },
  "icp10125": { "p": 101325, "t": 25 } }
EOF
printf 'hello from a regular file\nline 2\n' >"$tmp/plain.txt"

# 1. spec frames through I2C_RDWR and through I2C_SLAVE + read/write.
"$wc" "$tmp/s.json" --stats "$tmp/stats1.json" -- "$poke" \
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
	close >"$tmp/out1" 2>"$tmp/err1"
cat >"$tmp/want1" <<'EOF'
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
expect "frames, NACKs and errno through the preload" "$tmp/want1" "$tmp/out1"
[ -s "$tmp/err1" ] && { echo "stderr:"; cat "$tmp/err1"; }

# 2. what the chips received, from the stats file
s=$tmp/stats1.json
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
"$wc" "$tmp/s.json" --device "$tmp/fake-i2c" -- "$poke" \
	cat "$tmp/plain.txt" open /dev/null funcs close \
	open "$tmp/fake-i2c" funcs xwr 63 EFC8 3 close \
	openat "$tmp/fake-i2c" xwr 63 EFC8 3 close >"$tmp/out3" 2>&1
cat >"$tmp/want3" <<'EOF'
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
expect "pass-through of other paths, --device" "$tmp/want3" "$tmp/out3"
[ -e "$tmp/fake-i2c" ] && fail "the faked device path was created on disk"
if [ ! -e /dev/i2c-1 ]; then
	"$wc" "$tmp/s.json" --device "$tmp/fake-i2c" -- "$poke" open /dev/i2c-1 >"$tmp/out3b" 2>&1
	echo "open ENOENT" >"$tmp/want3b"
	expect "unconfigured /dev/i2c-1 reaches the real libc" "$tmp/want3b" "$tmp/out3b"
fi

# 4. control file: applied at open, then changed while the client runs,
# after it has sandboxed itself with seccomp (kill on any other syscall).
echo '{"sgp30": {"present": false}}' >"$tmp/ctl"
sandbox=sandbox
[ "${SAN:-}" = 1 ] && sandbox=   # ASan needs more syscalls than the allow-list
"$wc" "$tmp/s.json" --control "$tmp/ctl" --stats "$tmp/stats4.json" -- "$poke" \
	open /dev/i2c-1 $sandbox xw 58 202F xwr 63 EFC8 3 sleep 1500 \
	xwr 63 EFC8 3 xwr 63 EFC8 3 xwr 63 EFC8 3 sleep 1 xw 58 202F xw 62 3682 >"$tmp/out4" 2>&1 &
pid=$!
i=0
until [ "$(stat_get "$tmp/stats4.json" 'j["preload"]["transfers"]')" = 3 ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { fail "client never reached its first transfers"; break; }
	sleep 0.05
done
printf '{"icp10125": {"nack": 2}, "sgp30": {"present": true}, "scd4x": {"unplug": true}}\n' >"$tmp/ctl.new"
mv "$tmp/ctl.new" "$tmp/ctl"
wait "$pid"
rc=$?
pid=
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
} >"$tmp/want4"
expect "control file at open and at run time (sandboxed)" "$tmp/want4" "$tmp/out4"
[ "$(stat_get "$tmp/stats4.json" 'j["preload"]["control_applied"]')" = 2 ] || fail "stats: control applied twice"

# 4b. the control path can no longer be opened or stat'ed (as after a
# privilege drop): an in-place rewrite still reaches the chips through the
# descriptor the library opened at start.
echo '{"comment": "start"}' >"$tmp/ctl2"
if [ -z "$sandbox" ]; then
	echo "skip: sandbox-nofiles under SAN"
else
	"$wc" "$tmp/s.json" --control "$tmp/ctl2" --stats "$tmp/stats4b.json" -- "$poke" \
		open /dev/i2c-1 sandbox-nofiles cat "$tmp/plain.txt" xwr 63 EFC8 3 sleep 1500 \
		xwr 63 EFC8 3 xwr 63 EFC8 3 >"$tmp/out4b" 2>&1 &
	pid=$!
	i=0
	until [ "$(stat_get "$tmp/stats4b.json" 'j["preload"]["transfers"]')" = 2 ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && { fail "client never reached its first transfer"; break; }
		sleep 0.05
	done
	printf '{"icp10125": {"nack": 1}, "comment": "in place"}\n' >"$tmp/ctl2"
	wait "$pid"
	rc=$?
	pid=
	[ $rc -eq 0 ] || fail "client under sandbox-nofiles exited $rc"
	printf 'open ok\nsandbox-nofiles ok\ncat EACCES\nxwr 01 48 F1\nxwr EREMOTEIO\nxwr 01 48 F1\n' >"$tmp/want4b"
	expect "control rewritten in place, path unreachable" "$tmp/want4b" "$tmp/out4b"
fi

# 5. time_scale: 10x faster chips (SCD4x sample after 0.5 s, not 5 s)
printf '{"time_scale": 10, "scd4x": {"co2": 700}}\n' >"$tmp/fast.json"
"$wc" "$tmp/fast.json" -- "$poke" open /dev/i2c-1 xw 62 21B1 sleep 600 \
	xw 62 E4B8 sleep 2 xr 62 3 xw 62 EC05 sleep 2 xr 62 3 >"$tmp/out5" 2>&1
printf 'open ok\nxw ok\nxw ok\nxr 80 06 04\nxw ok\nxr 02 BC 9A\n' >"$tmp/want5"
expect "time_scale" "$tmp/want5" "$tmp/out5"

# 6. scenario errors and device faults surface at open
printf '{"scd4x": {"co3": 1}}\n' >"$tmp/bad.json"
"$wc" "$tmp/bad.json" -- "$poke" open /dev/i2c-1 >"$tmp/out6" 2>"$tmp/err6"
grep -q '^open EINVAL$' "$tmp/out6" || fail "bad scenario: open should fail EINVAL"
grep -q 'co3' "$tmp/err6" || fail "bad scenario: message should name the key"
printf '{"device": {"open_errno": "EACCES"}, "scd4x": {}}\n' >"$tmp/eacces.json"
"$wc" "$tmp/eacces.json" -- "$poke" open /dev/i2c-1 >"$tmp/out6b" 2>&1
echo "open EACCES" >"$tmp/want6b"
expect "device.open_errno" "$tmp/want6b" "$tmp/out6b"

# 7. the shipped scenarios load
for f in "$TOP"/tests/fakei2c/scenarios/*.json; do
	out=$("$wc" "$f" -- "$poke" open /dev/i2c-1 xwr 63 EFC8 3 2>&1)
	[ "$out" = "$(printf 'open ok\nxwr 01 48 F1')" ] || fail "scenario $f: $out"
done
echo "ok: shipped scenarios load"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all fakei2c preload checks passed"
