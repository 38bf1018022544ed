#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# fakeclock.so, the preload the clock tests put under the unmodified
# daemons: adjtimex, ntp_adjtime and clock_adjtime answer synchronised or
# not as told (environment or control file), CLOCK_REALTIME, gettimeofday
# and time carry the offset while CLOCK_MONOTONIC does not, the control file
# is read again while the client runs, and all of it still answers under a
# seccomp allow-list that does not allow adjtimex.
set -u
. "$TOP/tests/lib/harness.sh"
poke=$BIN/clock-poke
so=$BUILD/lib/fakeclock.so
need_built "$poke" "$so"
# a sanitizer build of the library loads before libasan
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# within D LO HI: LO <= D <= HI
within() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# field OUTPUT WORD N: the Nth field of OUTPUT's line that starts with WORD
field() {
	printf '%s\n' "$1" | awk -v w="$2" -v n="$3" '$1 == w { print $n; exit }'
}

out=$(FAKECLOCK_SYNCED=1 LD_PRELOAD=$so "$poke" synced ntp clock)
for w in synced ntp clock; do
	[ "$(field "$out" $w 2)" = 1 ] || fail "$w not synchronised with FAKECLOCK_SYNCED=1: $out"
done
out=$(FAKECLOCK_SYNCED=0 LD_PRELOAD=$so "$poke" synced ntp clock)
for w in synced ntp clock; do
	[ "$(field "$out" $w 2)" = 0 ] || fail "$w synchronised with FAKECLOCK_SYNCED=0: $out"
	[ "$(field "$out" $w 6)" = 5 ] || fail "$w: not TIME_ERROR (5) when unsynchronised: $out"
done
echo "ok: synchronised or not, as the environment says"

real=$("$poke" realtime mono)
out=$(FAKECLOCK_OFFSET_NS=3600000000000 LD_PRELOAD=$so "$poke" realtime wall mono)
d=$(($(field "$out" realtime 2) - $(field "$real" realtime 2)))
within "$d" 3599 3602 || fail "realtime moved $d s, expected 3600: $out"
d=$(($(field "$out" wall 2) - $(field "$real" realtime 2)))
within "$d" 3599 3602 || fail "gettimeofday moved $d s, expected 3600: $out"
d=$(($(field "$out" wall 3) - $(field "$real" realtime 2)))
within "$d" 3599 3602 || fail "time() moved $d s, expected 3600: $out"
d=$(($(field "$out" mono 2) - $(field "$real" mono 2)))
within "$d" 0 2 || fail "CLOCK_MONOTONIC moved $d s: $out"
echo "ok: the offset on the wall clocks only"

# the control file, changed while the client runs and sandboxed
printf 'synced 0\noffset_ns -7200000000000\n' >"$T/clock"
# (DAEMON_ASAN: no leak check at exit, which the allow-list would kill)
FAKECLOCK_FILE=$T/clock LD_PRELOAD=$so ASAN_OPTIONS=${DAEMON_ASAN:+$DAEMON_ASAN:}verify_asan_link_order=0 \
	"$poke" sandbox synced realtime sleep 1500 synced realtime \
	>"$T/poke.out" 2>&1 &
pid=$!
track "$pid" clock-poke
sleep 0.5
printf 'synced 1\noffset_ns 0\n' >"$T/clock.new" && mv "$T/clock.new" "$T/clock"
rc=0
wait_exit "$pid" clock-poke 10 || rc=$?
[ "$rc" -eq 0 ] || fail "clock-poke under the sandbox: exit $rc: $(cat "$T/poke.out")"
synced=$(awk '$1 == "synced" { printf "%s ", $2 }' "$T/poke.out")
[ "$synced" = "0 1 " ] || fail "synced before and after the file changed: $synced, expected 0 1: $(cat "$T/poke.out")"
d=$(awk '$1 == "realtime" { t[n++] = $2 } END { print t[1] - t[0] }' "$T/poke.out")
within "$d" 7200 7203 || fail "the offset change moved realtime $d s, expected 7200"
grep -q "^sandbox ok" "$T/poke.out" || fail "no sandbox: $(cat "$T/poke.out")"
echo "ok: the control file read again while the client runs, under a seccomp filter"
