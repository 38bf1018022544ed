#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A short fleet (tests/bench/fleet.sh, which `make bench` runs with 50
# devices for 2 minutes): FLEET_DEVICES (5) device pipelines, each a
# sensord on its own fake chips and a streamerd on its own channel, against
# one emulator for FLEET_SECONDS (15). Passes when every device's journal is
# in the table exactly once, on one channel per device, and the fleet leaves
# nothing behind: no process and no scratch directory, neither after its
# normal end nor when it is stopped by SIGTERM with every daemon running.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd python3 sqlite3
need_built "$BIN/sensord" "$BIN/streamerd" "$BIN/snowpipe-emu" "$BUILD/lib/fakei2c.so"
N=${FLEET_DEVICES:-5}
SECS=${FLEET_SECONDS:-15}

# fleet_procs DIR: pids of the processes whose command line names a file
# under DIR (each daemon's config, the emulator's world). The needle is in a
# file so that grep's own command line does not hold it.
fleet_procs() {
	printf '%s/\n' "$1" >"$T/needle"
	for _fp in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$_fp/cmdline"; } 2>/dev/null | grep -qF -f "$T/needle" &&
			echo "${_fp#/proc/}"
	done
	return 0
}

procs_are() {
	[ "$(fleet_procs "$1" | wc -l)" -eq "$2" ]
}

# run_fleet DIR DEVICES SECONDS: fleet.sh in the background with its scratch
# directory under DIR; sets FLEET_PID.
run_fleet() {
	mkdir "$1"
	KEEP=0 TMPDIR=$1 FLEET_DEVICES=$2 FLEET_SECONDS=$3 FLEET_JSON=$1.json \
		sh "$TOP/tests/bench/fleet.sh" >"$1.log" 2>&1 &
	FLEET_PID=$!
	track "$FLEET_PID" fleet.sh
	watch_log "$1.log"
	# every daemon of the fleet up: N sensord, N streamerd, one emulator
	wait_for $((60 + 5 * $2)) "the fleet's $(($2 * 2 + 1)) daemons" procs_are "$1" $(($2 * 2 + 1))
}

# left_behind DIR WHAT: fails if a fleet process still runs (after killing
# it: this test cleans up what the fleet did not) or DIR is not empty.
left_behind() {
	_lb=$(fleet_procs "$1")
	if [ -n "$_lb" ]; then
		_lb_what=$(for _p in $_lb; do { tr '\0' ' ' <"/proc/$_p/cmdline"; } 2>/dev/null; echo; done)
		for _p in $_lb; do kill -KILL "$_p" 2>/dev/null; done
		fail "$2: processes left running: $_lb_what"
	fi
	[ -z "$(ls -A "$1")" ] || fail "$2: left in its temporary directory: $(ls -A "$1")"
}

# 1. A whole run: exactly once per device.
run_fleet "$T/full" "$N" "$SECS"
rc=0
wait_exit "$FLEET_PID" fleet.sh $((240 + 10 * N + SECS)) || rc=$?
[ "$rc" = 0 ] || fail "fleet.sh exited $rc: $(grep -E '^(fleet|FAIL)' "$T/full.log")"
left_behind "$T/full" "a fleet run"
python3 - "$T/full.json" "$N" "$SECS" <<'PY' || fail "the fleet's audit"
import json, sys
f = json.load(open(sys.argv[1]))
n, secs = int(sys.argv[2]), int(sys.argv[3])
eo = f["exactly_once"]
errs = []
if f["devices"] != n or len(eo["per_device"]) != n:
    errs.append("%s devices audited, expected %d" % (f["devices"], n))
for dev, journaled, rows, ok in eo["per_device"]:
    # the window alone holds SECS records of each device at 1 record/s
    if not ok or rows != journaled or journaled < secs:
        errs.append("%s: %d rows of %d journaled, ok=%s" % (dev, rows, journaled, ok))
if eo["rows"] != eo["journaled"] or eo["foreign_rows"]:
    errs.append("%(rows)d rows of %(journaled)d journaled, %(foreign_rows)d of no device" % eo)
if f["limits_seen"]["channels_open"] != n:
    errs.append("%s channels open, expected one per device" % f["limits_seen"]["channels_open"])
for e in errs:
    print("short.sh:", e)
sys.exit(1 if errs else 0)
PY

# 2. SIGTERM while every daemon runs: the harness stops them all.
run_fleet "$T/cut" 3 600
kill -TERM "$FLEET_PID"
rc=0
wait_exit "$FLEET_PID" fleet.sh 30 || rc=$?
[ "$rc" = 143 ] || fail "fleet.sh exited $rc after SIGTERM, expected 143"
left_behind "$T/cut" "a fleet stopped by SIGTERM"
echo "ok: $N devices exactly once, one channel each; nothing left behind, stopped or not"
