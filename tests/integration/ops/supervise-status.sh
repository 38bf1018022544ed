#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `supervise status` says what each daemon is doing, with the real daemons
# (sensord on the fake chips, streamerd to the Snowpipe emulator): sensord
# recording and streamerd streaming; retrying since the first failure,
# with the reason from streamerd's metrics file (supervise status and
# sensortap --watch), while the emulator answers every append with 503;
# catching up, with the number pending, while commits lag behind by
# seconds; waiting for sensord while sensord is stopped; and `status -w`
# redraws in place in a real terminal (tmux) until Ctrl-C.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd sqlite3 tmux

cat >"$T/steady.json" <<'EOF'
{
  "scd4x": { "co2": 650, "t": 21.5, "rh": 45.0 },
  "sgp30": { "eco2": 420, "tvoc": 8 },
  "icp10125": { "p": 100500.0, "t": 21.0 }
}
EOF
sandbox_emu --commit-lag-ms 200
sandbox_configs "$T/steady.json" 250
SUPERVISE_STOP_TIMEOUT=8
export SUPERVISE_STOP_TIMEOUT
st=""
# state NAME REGEX: status's first line for NAME matches REGEX (extended)
state() {
	st=$(supervise status 2>&1)
	printf '%s\n' "$st" | grep -E -q "^$1 +$2"
}
# expect_state SECONDS NAME REGEX WHAT
expect_state() {
	poll "$1" state "$2" "$3" || { echo "$st"; fail "status never said $2 $4"; }
	echo "$st"
}
rows_at_least() { [ "$(table_rows)" -ge "$1" ]; }

supervise start >/dev/null || fail "supervise start"
poll 20 rows_at_least 3 || fail "no rows committed within 20 s of start"
expect_state 15 sensord 'recording$' "recording"
expect_state 15 streamerd 'streaming$' "streaming"
printf '%s\n' "$st" | grep -q '^ *committed seq [0-9]*, [0-9]* pending, last commit ' ||
	fail "status lacks the committed seq and pending"

# every append refused: retrying since the first refusal, and why, from
# streamerd's metrics file alone: its log is out of reach meanwhile (moved
# aside; streamerd goes on writing to it), so neither supervise status nor
# sensortap --watch can take it from there
tm() { tmux -L "sst$$" -f /dev/null "$@"; }
at_exit 'tm kill-server 2>/dev/null'
pane() { tm capture-pane -p -t "$1" >"$T/pane" 2>/dev/null; }
mv "$T/log/streamerd.log" "$T/log/streamerd.log.aside"
t0=$(date +%s)
fault '{"kind":"status","route":"append","status":503,"count":-1}'
expect_state 20 streamerd 'retrying since [0-9]{2}:[0-9]{2}:[0-9]{2} \(append: HTTP 503( [A-Za-z0-9_]+)?\)$' \
	"retrying (append: HTTP 503)"
since=$(printf '%s\n' "$st" | sed -n 's/^streamerd *retrying since \([0-9:]*\).*/\1/p')
since_s=$(date -d "$since" +%s)
{ [ "$since_s" -ge $((t0 - 1)) ] && [ "$since_s" -le "$(date +%s)" ]; } ||
	fail "retrying since $since, but the refusals began at $(date -d "@$t0" +%T)"
tm new-session -d -s r -x 220 -y 40 \
	"ASAN_OPTIONS=$DAEMON_ASAN $BIN/sensortap -s $SENSORD_SOCK --watch --metrics $T/run/streamerd.prom; sleep 30"
watch_retrying() { pane r && grep -q "; retrying since $since: append: HTTP 503" "$T/pane"; }
poll 10 watch_retrying || { cat "$T/pane"; fail "sensortap --watch does not say since $since and why"; }
grep '^pipeline' "$T/pane"
tm kill-session -t r
mv "$T/log/streamerd.log.aside" "$T/log/streamerd.log"
fault '{"kind":"clear"}'
expect_state 30 streamerd 'streaming$' "streaming again after the refusals"

# commits 14 s behind, 4 records a second: ~56 pending (more than 10 s of
# records), and commits go on
fault '{"kind":"commit_lag","ms":14000}'
expect_state 40 streamerd 'catching up \([0-9]+ pending\)$' "catching up"
n=$(printf '%s\n' "$st" | sed -n 's/^streamerd *catching up (\([0-9]*\) pending)$/\1/p')
[ "$n" -ge 10 ] || fail "catching up with $n pending"
fault '{"kind":"commit_lag","ms":200}'
expect_state 30 streamerd 'streaming$' "streaming again after the lag"

# sensord stopped: streamerd waits for it
supervise stop sensord >/dev/null || fail "stop sensord"
expect_state 20 streamerd 'waiting for sensord$' "waiting for sensord"
printf '%s\n' "$st" | grep -q '^sensord  *stopped$' || fail "sensord not shown stopped: $st"
supervise start sensord >/dev/null || fail "start sensord"
expect_state 30 streamerd 'streaming$' "streaming once sensord is back"

# status -w in a terminal: redrawn in place (one screen, the clock moving),
# Ctrl-C ends it with status 0
tm new-session -d -s w -x 150 -y 30 \
	"ASAN_OPTIONS=$DAEMON_ASAN $SUPERVISE -c $T/conf status -w -n 1; echo exited \$?; sleep 30"
clock() { sed -n 's/^supervise status, every 1s.* \([0-9:]*\)$/\1/p' "$T/pane"; }
shown() { pane w && [ -n "$(clock)" ] && grep -q '^streamerd  *streaming' "$T/pane"; }
poll 10 shown || { cat "$T/pane"; fail "status -w shows nothing"; }
first=$(clock)
moved() { pane w && [ -n "$(clock)" ] && [ "$(clock)" != "$first" ]; }
poll 5 moved || { cat "$T/pane"; fail "status -w did not refresh"; }
cat "$T/pane"
{ [ "$(grep -c '^sensord ' "$T/pane")" = 1 ] && [ "$(grep -c '^supervise status' "$T/pane")" = 1 ]; } ||
	fail "status -w did not redraw in place"
tm send-keys -t w C-c
ended() { pane w && grep -q 'exited 0$' "$T/pane"; }
poll 5 ended || { cat "$T/pane"; fail "status -w did not end with 0 on Ctrl-C"; }
tm kill-server

supervise stop >/dev/null || fail "stop"
echo "supervise status: streaming, retrying, catching up, waiting for sensord and -w as expected"
