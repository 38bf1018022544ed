#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sensortap for people, against the unmodified sensord on emulated chips:
# --pretty's lines (local ISO time, rounded values with units, the same
# columns on every line, no colour into a pipe, colour on a terminal), and
# --watch in a real terminal (tmux), read back with capture-pane: values
# with units, each chip's state, sparklines, the lag from a metrics file
# in streamerd's format, the ICP-10125's state changing when it is
# unplugged, a resize, and q giving the terminal back.
set -eu
. "$TOP/tests/lib/harness.sh"
need_cmd tmux python3
need_built "$BIN/sensortap"

ctl=$T/ctl.json
echo '{}' >"$ctl"
sensord_conf ''
CHIPS_OPTS="--control $ctl" start_sensord --interval 1
wait_sensord last_seq 8

# 1. --pretty into a pipe: one line per record, no escape sequences
"$BIN/sensortap" -s "$SENSORD_SOCK" --from oldest -n 8 --pretty >"$T/pretty" 2>"$T/err" ||
	fail "sensortap --pretty: $(cat "$T/err")"
cat "$T/pretty"
python3 - "$T/pretty" <<'PY' || fail "--pretty lines"
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 8, lines
iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
cols = set()
for n, l in enumerate(lines, 1):
    assert "\033" not in l, "colour into a pipe: %r" % l
    assert re.match(iso + r"  seq %d +  scd4x " % n, l), l
    # values rounded, each with its unit; pressure in hPa with 2 decimals
    for chip in ("scd4x", "sgp30", "icp10125"):
        assert re.search(chip + " ", l), (chip, l)
    assert not re.search(r"\d\.\d{3}", l), "not rounded: " + l
    cols.add(tuple(l.index(c) for c in ("scd4x ", "sgp30 ", "icp10125 ")))
    # values when it has them, else its state in words
    if re.search(r"icp10125 +\d", l):
        assert re.search(r"icp10125 +\d{4}\.\d\d hPa +\d\d\.\d °C", l), l
    else:
        assert re.search(r"icp10125 [a-z ]+[a-z]", l), l
found = " ".join(lines)
assert re.search(r"\d+ ppm +\d\d\.\d °C +\d\d\.\d %RH", found), "no SCD4x values"
assert len(cols) == 1, "columns move: %s" % cols
PY

tm() {
	tmux -L "views$$" -f /dev/null "$@"
}
at_exit 'tm kill-server 2>/dev/null'
# screen TEXT: the pane shows TEXT (a basic regular expression)
screen() {
	tm capture-pane -p -t v >"$T/pane" 2>/dev/null && grep -q "$1" "$T/pane"
}
show() {
	echo "---- the pane:"
	cat "$T/pane"
	echo "----"
}

# 2. --pretty on a terminal: the same line, coloured
tm new-session -d -s p -x 220 -y 10 \
	"$BIN/sensortap -s $SENSORD_SOCK --from 1 -n 1 --pretty; sleep 30"
poll 10 sh -c "tmux -L views$$ capture-pane -p -e -t p | grep -q 'seq 1 '" ||
	fail "--pretty in tmux printed nothing"
tm capture-pane -p -e -t p >"$T/pane"
grep -q "$(printf '\033')\[" "$T/pane" || { show; fail "--pretty on a terminal: no colour"; }
tm kill-session -t p

# 3. --watch, with streamerd's metrics file two records behind
metrics=$T/streamerd.prom
write_metrics() {
	last=$(sensord_status last_seq)
	cat >"$metrics.tmp" <<EOF
# HELP streamerd_committed_seq Newest seq Snowflake committed.
# TYPE streamerd_committed_seq gauge
streamerd_committed_seq{device="itest"} $((last - 2))
# TYPE streamerd_last_commit_timestamp_seconds gauge
streamerd_last_commit_timestamp_seconds{device="itest"} $(date +%s)
EOF
	mv "$metrics.tmp" "$metrics"
}
write_metrics
tm new-session -d -s v -x 120 -y 40 \
	"$BIN/sensortap -s $SENSORD_SOCK --watch --metrics $metrics; echo exited \$?; sleep 30"
poll 10 screen '^icp10125 *ok .* hPa' || { show; fail "--watch: no ICP-10125 values"; }
show
# (its state, then its newest values: it samples every 5 s, records come
# every second, so the state may well be "no new sample")
grep -q '^scd4x  *[a-z][a-z ]*  *[0-9]* ppm  *[0-9][0-9]\.[0-9] °C  *[0-9][0-9]\.[0-9] %RH' "$T/pane" ||
	fail "--watch: no SCD4x line with units"
grep -q '^sgp30 ' "$T/pane" || fail "--watch: no SGP30 line"
grep -q '^scd4x co2 .*[▁▂▃▄▅▆▇█].* ppm - ' "$T/pane" || fail "--watch: no CO2 sparkline"
grep -q '^icp10125 p .* hPa - .* hPa' "$T/pane" || fail "--watch: no pressure sparkline"
grep -q '^pipeline .*lag .*[0-9] pending, committed seq' "$T/pane" ||
	fail "--watch: no lag from the metrics file"
grep -q 'q quits' "$T/pane" || fail "--watch: no keys line"

# the ICP-10125 unplugged: its state changes on the screen
printf '%s\n' '{"icp10125": {"unplug": true}}' >"$ctl.tmp"
mv "$ctl.tmp" "$ctl"
poll 15 screen '^icp10125  *\(retrying\|absent\|no sample\) ' ||
	{ show; fail "--watch: the unplugged ICP-10125's state did not change"; }
show

# a resize redraws at the new size; q ends it and leaves the alternate screen
tm resize-window -t v -x 70 -y 20
# narrow: no line wider than 70 columns, and the sparklines fill them (a
# character is a column here: mawk's length counts bytes)
narrow() {
	screen 'q quits' && python3 -c 'import sys
l = open(sys.argv[1], encoding="utf-8").read().splitlines()
co2 = [x.rstrip() for x in l if x.startswith("scd4x co2 ")]
sys.exit(not (max(map(len, l)) <= 70 and co2 and len(co2[0]) == 70))' "$T/pane"
}
poll 5 narrow || { show; fail "--watch: not redrawn at the resized window's width"; }
tm send-keys -t v q
poll 5 screen '^exited 0' || { show; fail "--watch did not exit 0 on q"; }
! grep -q 'q quits' "$T/pane" || { show; fail "--watch left its screen behind"; }
tm kill-server
echo "sensortap --pretty and --watch: values, units, states, lag, resize and q as expected"
