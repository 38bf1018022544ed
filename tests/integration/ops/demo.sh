#!/bin/sh
# `make demo DEMO_SECONDS=20`, as a newcomer runs it: it must show
# sensortap records and committed rows from the emulator's table, end by
# itself with committed rows and no duplicate, and leave no process and no
# temporary directory behind.
set -u
. "$TOP/tests/lib/harness.sh"
need_built "$TOP/tests/fakei2c/scenarios/lively.json" "$BIN/snowpipe-emu" "$BUILD/lib/fakei2c.so" \
	"$BIN/streamerd" "$BIN/sensord"
# The demo's own temporary directory goes into this test's $T (mode 0755:
# as root, the demo's sensord runs as nobody and needs to get in).

start=$(date +%s)
TMPDIR=$T make -s -C "$TOP" BUILD="$BUILD" demo DEMO_SECONDS=20 >"$T/out" 2>&1
rc=$?
took=$(($(date +%s) - start))
cat "$T/out"
echo "make demo: exit $rc after ${took}s"
[ $rc -eq 0 ] || fail "make demo exited $rc"
[ $took -lt 80 ] || fail "make demo DEMO_SECONDS=20 took ${took}s"
grep -q '^tap seq [0-9]' "$T/out" || fail "no sensortap records shown"
grep -q 'emulator table: [1-9][0-9]* rows committed' "$T/out" || fail "no committed rows shown while running"
summary=$(grep '^== [0-9]* rows committed' "$T/out")
rows=$(echo "$summary" | sed -n 's/^== \([0-9]*\) rows committed, \([0-9]*\) distinct.*/\1/p')
distinct=$(echo "$summary" | sed -n 's/^== \([0-9]*\) rows committed, \([0-9]*\) distinct.*/\2/p')
if [ -z "$rows" ] || [ "$rows" -lt 5 ]; then fail "final summary: '$summary'"; fi
[ "$rows" = "$distinct" ] || fail "duplicate rows: $rows rows, $distinct distinct records"
grep -q 'SGP30 warming up' "$T/out" || fail "the lively scenario's SGP30 warm-up does not show"
sleep 0.5
# shellcheck disable=SC2009 # ps, not pgrep: zombies waiting for init do not count
left=$(ps -eo pid=,stat=,args= | grep -v ' Z' | grep -F "$T/snowsense-demo" | grep -v grep || true)
[ -z "$left" ] || fail "left running: $left"
[ -z "$(ls -A "$T")" ] || [ "$(ls -A "$T")" = out ] || fail "left in TMPDIR: $(ls -A "$T")"

echo "make demo: $rows rows committed exactly once in ${took}s, nothing left behind"
