#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make demo`, as a newcomer runs it, at its default length: the build in
# one line; records as sensortap --pretty prints them, showing the SGP30's
# warm-up and the ICP-10125 unplugged and back; the committed rows in
# fixed columns with units and the NULL legend; one closing line saying
# every journaled record was committed exactly once. Then `make demo |
# head -n 5`, `make demo | tee` and `make demo` interrupted with Ctrl-C in
# a terminal: each time no process and no temporary directory may be left
# behind, and Ctrl-C alone still ends with the closing line.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd python3 tmux
need_built "$TOP/tests/fakei2c/scenarios/lively.json" "$BIN/snowpipe-emu" "$BUILD/lib/fakei2c.so" \
	"$BIN/streamerd" "$BIN/sensord" "$BIN/sensortap"
# The demo's own temporary directory goes into this test's $T (mode 0755:
# as root, the demo's sensord runs as nobody and needs to get in).

# left: what the demo left behind (processes, then files but OUT)
left() {
	sleep 0.5
	# shellcheck disable=SC2009 # ps, not pgrep: zombies waiting for init do not count
	ps -eo pid=,stat=,args= | grep -v ' Z' | grep -F "$T/snowsense-demo" | grep -v grep
	for f in "$T"/* "$T"/.[!.]*; do
		case ${f##*/} in out | tee.out | head.out | ended | '*' | '.[!.]*') ;; *) echo "$f" ;; esac
	done
}

start=$(date +%s)
TMPDIR=$T make -s -C "$TOP" BUILD="$BUILD" demo >"$T/out" 2>&1
rc=$?
took=$(($(date +%s) - start))
cat "$T/out"
echo "make demo: exit $rc after ${took}s"
[ $rc -eq 0 ] || fail "make demo exited $rc"
[ $took -lt 120 ] || fail "make demo took ${took}s"
python3 - "$T/out" <<'PY' || fail "make demo's output"
import re, sys
out = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert re.fullmatch(r"== building snowsense \(make all tests, log in .*\) \.\.\. done", out[0]), out[0]
assert not any(l.startswith(("cc ", "gcc ", "make")) for l in out), "build output shown"
iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
recs = [l for l in out if re.match(iso + r"  seq \d+ ", l)]
assert len(recs) >= 20, "only %d records shown" % len(recs)
# the SGP30's warm-up: its state said, or its constants (400 ppm, 0 ppb)
# until it measures
sgp = [("warming up" in l or re.search(r"sgp30 +400 ppm +0 ppb", l) is not None,
        re.search(r"sgp30 +\d+ ppm +\d+ ppb", l) is not None) for l in recs]
assert sgp[0][0], "no SGP30 warm-up at the start: " + recs[0]
assert any(v and not w for w, v in sgp), "the SGP30 never measured"
# the ICP-10125 unplugged (no values) between records with its values
icp = [re.search(r"icp10125 +\d{4}\.\d\d hPa +\d+\.\d °C", l) is not None for l in recs]
# (unplugged: a fault or a failing state named on the line, not only a
# record between two samples)
gone = [i for i, l in enumerate(recs)
        if not icp[i] and re.search(r"icp10125(:| since | retrying| absent)", l)]
assert gone and icp[0] and any(icp[i] for i in range(gone[-1], len(icp))), \
    "the ICP-10125 unplug does not show: %s" % icp
# the committed rows: fixed columns (every row of every table as wide as
# its header), rounded values with units, NULL explained
heads = [i for i, l in enumerate(out) if l.strip().startswith("seq  recorded")]
assert heads, "no table of committed rows"
for h in heads:
    rows = [l for l in out[h + 1:h + 5] if re.match(r" +\d+  \d\d:\d\d:\d\d ", l)]
    assert rows, out[h:h + 5]
    for r in rows:
        assert len(r) == len(out[h]), (out[h], r)
        assert re.search(r"(\d+\.\d °C|NULL) +(\d+\.\d %|NULL) +(\d+ ppm|NULL)", r), r
        assert re.search(r"(\d{3,4}\.\d\d hPa|NULL)", r), r
assert any("NULL" in l for l in out if re.match(r" +\d+  \d\d:\d\d:\d\d ", l)), "no NULL shown"
assert any(l.strip().startswith("(times UTC; NULL: ") for l in out), "no NULL legend"
# the end: one line, every record journaled committed once
m = re.fullmatch(r"== (\d+) records journaled, (\d+) rows committed: each record exactly once",
                 out[-1])
assert m and m.group(1) == m.group(2) and int(m.group(1)) >= 20, out[-1]
PY
what=$(left)
[ -z "$what" ] || fail "left behind after make demo: $what"

# | head -n 5: the demo stops when its reader goes
start=$(date +%s)
TMPDIR=$T timeout 60 sh -c "make -s -C '$TOP' BUILD='$BUILD' demo DEMO_SECONDS=0 | head -n 5" \
	>"$T/head.out" 2>&1
rc=$?
echo "make demo | head -n 5: exit $rc after $(($(date +%s) - start))s"
cat "$T/head.out"
[ $rc -ne 124 ] || fail "make demo | head -n 5 did not end"
what=$(left)
[ -z "$what" ] || fail "left behind after make demo | head -n 5: $what"

# | tee in a terminal (tmux), then Ctrl-C: the terminal's SIGINT reaches
# make, the demo, sensortap and tee at once (a background job here would
# have SIGINT ignored, as every job of a shell without job control)
tm() { tmux -L "demo$$" -f /dev/null "$@"; }
at_exit 'tm kill-server 2>/dev/null'
# (the pane's shell traps SIGINT, so it waits for the pipeline and then
# says that it ended; its children get the default action, as at a prompt)
tm new-session -d -s d -x 200 -y 50 "trap : INT; cd '$TOP' && TMPDIR='$T' make -s BUILD='$BUILD' \
	demo DEMO_SECONDS=0 | tee '$T/tee.out'; echo ended >'$T/ended'; sleep 60"
shows_records() { grep -q '  seq 3 ' "$T/tee.out" 2>/dev/null; }
wait_for 40 "make demo | tee to show records" shows_records
tm send-keys -t d C-c
wait_for 40 "make demo | tee to end after Ctrl-C" test -f "$T/ended"
rm -f "$T/ended"
tm kill-server
what=$(left)
[ -z "$what" ] || fail "left behind after Ctrl-C on make demo | tee: $what"

# Ctrl-C in a terminal, no pipe: the demo stops as it does at its end, with
# its closing line, and no failure report from the harness
tm new-session -d -s c -x 250 -y 100 "trap : INT; cd '$TOP' && TMPDIR='$T' make -s BUILD='$BUILD' \
	demo DEMO_SECONDS=0; echo ended >'$T/ended'; sleep 60"
pane() { tm capture-pane -p -S - -t c >"$T/pane" 2>/dev/null; }
pane_shows() { pane && grep -q "$1" "$T/pane"; }
wait_for 40 "make demo to show records" pane_shows '  seq 3 '
tm send-keys -t c C-c
wait_for 40 "make demo to end after Ctrl-C" test -f "$T/ended"
pane
grep -v '^$' "$T/pane" | tail -n 4
grep -q '^== [0-9]* records journaled, [0-9]* rows committed: each record exactly once$' "$T/pane" ||
	fail "no closing line after Ctrl-C"
! grep -q 'FAIL: ' "$T/pane" || fail "Ctrl-C reported as a failure"
rm -f "$T/ended" "$T/pane"
tm kill-server
what=$(left)
[ -z "$what" ] || fail "left behind after Ctrl-C on make demo: $what"

echo "make demo: $(tail -n 1 "$T/out" | sed 's/^== //') in ${took}s; | head, Ctrl-C and Ctrl-C on | tee left nothing behind"
