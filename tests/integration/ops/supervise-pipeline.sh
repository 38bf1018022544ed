#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# scripts/supervise with the real daemons: sensord under the fake chips,
# streamerd streaming to the Snowpipe emulator. Restart streamerd alone
# (sensord's process untouched), SIGKILL streamerd and then sensord (each
# restarted by its monitor), give streamerd a broken config (exit 3 is
# reported, not retried, and status gives streamerd's own words), fix it;
# then every seq sensord journaled must be in the emulator's table exactly
# once, and nothing may be left running.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd sqlite3

# Steady values; the SCD4x answers every 5 s, the others every second.
cat >"$T/steady.json" <<'EOF'
{
  "scd4x": { "co2": 650, "t": 21.5, "rh": 45.0 },
  "sgp30": { "eco2": 420, "tvoc": 8 },
  "icp10125": { "p": 100500.0, "t": 21.0 }
}
EOF
sandbox_emu --commit-lag-ms 200
sandbox_configs "$T/steady.json" 500
# a daemon that ignores SIGTERM (seen with streamerd under ASan) costs 8 s, not 20
SUPERVISE_STOP_TIMEOUT=8
export SUPERVISE_STOP_TIMEOUT
S() { supervise "$@"; }
pid_of() { cat "$T/run/supervise/$1.pid" 2>/dev/null; }
status_json() { "$SENSORTAP_BIN" -s "$SENSORD_SOCK" --status 2>/dev/null; }
seq_field() { tr ',{}' '\n' | sed -n "s/^ *\"$1\": *\\([0-9]*\\).*/\\1/p" | head -n 1; }
rows_at_least() { [ "$(table_rows)" -ge "$1" ]; }
wait_rows() { # N TIMEOUT_S
	poll "$2" rows_at_least "$1"
}
new_pid() { # NAME OLD_PID
	p=$(pid_of "$1")
	[ -n "$p" ] && [ "$p" != "$2" ] && kill -0 "$p" 2>/dev/null
}
wait_new_pid() { # NAME OLD_PID TIMEOUT_S
	poll "$3" new_pid "$1" "$2"
}

S start || fail "supervise start"
wait_rows 3 20 || fail "no rows committed within 20 s of start"
echo "rows after start: $(table_rows)"

# restart streamerd alone
spid=$(pid_of sensord)
old=$(pid_of streamerd)
S restart streamerd || fail "restart streamerd"
[ "$(pid_of sensord)" = "$spid" ] || fail "restart streamerd changed sensord's pid"
[ "$(pid_of streamerd)" != "$old" ] || fail "streamerd's pid did not change on restart"
n=$(table_rows)
wait_rows $((n + 2)) 15 || fail "no new rows after restarting streamerd"

# SIGKILL streamerd: its monitor restarts it after 1 s
old=$(pid_of streamerd)
kill -KILL "$old"
wait_new_pid streamerd "$old" 10 || fail "streamerd not restarted after SIGKILL"
[ "$(pid_of sensord)" = "$spid" ] || fail "SIGKILL of streamerd changed sensord"

# SIGKILL sensord: restarted, the journal goes on, streamerd reconnects
kill -KILL "$spid"
wait_new_pid sensord "$spid" 10 || fail "sensord not restarted after SIGKILL"
poll 5 status_json >/dev/null || true
st=$(S status)
echo "$st"
echo "$st" | grep -A1 '^sensord' | grep -q 'restarts 1, last exit 137 (signal KILL)' ||
	fail "status does not show sensord's restart after SIGKILL"
echo "$st" | grep -q 'journal seq 1\.\.' || fail "status lacks sensord's journal range"
# streamerd writes its metrics once sensord's hello names the device: just
# after both restarts that may take a moment (seconds under ASan)
committed_shown() { S status | grep -q 'committed seq [0-9]'; }
poll 15 committed_shown || fail "status lacks streamerd's committed seq: $(S status)"
n=$(table_rows)
wait_rows $((n + 2)) 20 || fail "no new rows after sensord's restart"

# A broken streamerd config: exit 3 reported by restart, not retried
cp "$T/conf/streamerd.json" "$T/streamerd.json.good"
sed 's/"flush_interval_ms": 1000/"flush_interval_ms": "soon"/' "$T/streamerd.json.good" >"$T/conf/streamerd.json"
if out=$(S restart streamerd 2>&1); then fail "restart with a broken config succeeded: $out"; fi
echo "$out"
echo "$out" | grep -q '3 (configuration error)' || fail "restart did not report the config error"
sleep 2
n=$(grep -c 'starting streamerd' "$T/log/supervise.log")
sleep 2
[ "$(grep -c 'starting streamerd' "$T/log/supervise.log")" = "$n" ] || fail "config error retried"
grep -q 'flush_interval_ms' "$T/log/streamerd.log" || fail "streamerd's log does not name the bad key"
st=$(S status)
echo "$st"
echo "$st" | grep -q '^streamerd  *stopped (configuration error: .*flush_interval_ms.*); fix it, then: supervise restart streamerd$' ||
	fail "status does not give streamerd's configuration error in its own words"
cp "$T/streamerd.json.good" "$T/conf/streamerd.json"
S restart streamerd || fail "restart after fixing the config"

# Drain and compare: every journaled seq exactly once.
sleep 1
last=$(status_json | seq_field last_seq)
if [ -z "$last" ] || [ "$last" -le 10 ]; then fail "sensord's last_seq is '$last'"; fi
drained() {
	have=$(sqlite3 "$EMU_DB" "select count(distinct json_extract(RAW_DATA, '\$.seq')) from THERMAL_SENSOR_DATA
		where json_extract(RAW_DATA, '\$.seq') <= $last")
	[ "$have" -ge "$last" ]
}
poll 30 drained || true # the comparison below says what is missing
q() { sqlite3 "$EMU_DB" "$1"; }
total=$(q "select count(*) from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.seq') <= $last")
distinct=$(q "select count(distinct json_extract(RAW_DATA, '\$.seq')) from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.seq') <= $last")
range=$(q "select min(json_extract(RAW_DATA, '\$.seq')) || '..' || max(json_extract(RAW_DATA, '\$.seq')) from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.seq') <= $last")
dupe_rowids=$(q "select count(*) - count(distinct ROWID) from THERMAL_SENSOR_DATA")
echo "journal seqs 1..$last; table: $total rows, $distinct distinct seqs, range $range, duplicate ROWIDs $dupe_rowids"
[ "$distinct" = "$last" ] || fail "missing seqs: $distinct of $last in the table"
[ "$total" = "$distinct" ] || fail "duplicates: $total rows for $distinct seqs"
[ "$range" = "1..$last" ] || fail "seq range in the table is $range"
[ "$dupe_rowids" = 0 ] || fail "$dupe_rowids duplicate ROWIDs"

# Stop: nothing left.
S stop || fail "stop"
sleep 0.3
# shellcheck disable=SC2009 # ps, not pgrep: zombies waiting for init do not count
left=$(ps -eo pid=,stat=,args= | grep -v ' Z' | grep -F "$T/" | grep -v -e grep -e snowpipe-emu || true)
[ -z "$left" ] || fail "left running after stop: $left"

echo "pipeline under supervise: exactly once over $last records"
