#!/bin/sh
# `make demo DEMO_SECONDS=20`, as a newcomer runs it: it must show
# sensortap records and committed rows from the emulator's table, end by
# itself with committed rows and no duplicate, and leave no process and no
# temporary directory behind.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$top/build}
for f in "$top/tests/fakei2c/with-chips" "$top/tests/fakei2c/scenarios/lively.json" \
	"$BUILD/bin/snowpipe-emu" "$BUILD/lib/fakei2c.so" "$BUILD/bin/streamerd" "$BUILD/bin/sensord"; do
	[ -e "$f" ] || { echo "$f not there yet: make demo cannot run"; exit 77; }
done
tmp=$(mktemp -d)
chmod 0755 "$tmp" # as root, the demo's sensord runs as nobody and needs to get in
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

start=$(date +%s)
TMPDIR=$tmp make -s -C "$top" BUILD="$BUILD" demo DEMO_SECONDS=20 >"$tmp/out" 2>&1
rc=$?
took=$(($(date +%s) - start))
cat "$tmp/out"
echo "make demo: exit $rc after ${took}s"
[ $rc -eq 0 ] || fail "make demo exited $rc"
[ $took -lt 80 ] || fail "make demo DEMO_SECONDS=20 took ${took}s"
grep -q '^tap seq [0-9]' "$tmp/out" || fail "no sensortap records shown"
grep -q 'emulator table: [1-9][0-9]* rows committed' "$tmp/out" || fail "no committed rows shown while running"
summary=$(grep '^== [0-9]* rows committed' "$tmp/out")
rows=$(echo "$summary" | sed -n 's/^== \([0-9]*\) rows committed, \([0-9]*\) distinct.*/\1/p')
distinct=$(echo "$summary" | sed -n 's/^== \([0-9]*\) rows committed, \([0-9]*\) distinct.*/\2/p')
if [ -z "$rows" ] || [ "$rows" -lt 5 ]; then fail "final summary: '$summary'"; fi
[ "$rows" = "$distinct" ] || fail "duplicate rows: $rows rows, $distinct distinct records"
grep -q 'SGP30 warming up' "$tmp/out" || fail "the lively scenario's SGP30 warm-up does not show"
sleep 0.5
# shellcheck disable=SC2009 # ps, not pgrep: zombies waiting for init do not count
left=$(ps -eo pid=,stat=,args= | grep -v ' Z' | grep -F "$tmp/snowsense-demo" | grep -v grep || true)
[ -z "$left" ] || fail "left running: $left"
[ -z "$(ls -A "$tmp")" ] || [ "$(ls -A "$tmp")" = out ] || fail "left in TMPDIR: $(ls -A "$tmp")"

[ $fails -eq 0 ] || exit 1
echo "make demo: $rows rows committed exactly once in ${took}s, nothing left behind"
