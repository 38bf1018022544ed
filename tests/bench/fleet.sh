#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# fleet.sh: a fleet of device pipelines on one machine against one Snowpipe
# emulator. Each device is a sensord on its own fake chips (its own device
# name, state directory, socket and metrics file) and a streamerd appending
# to its own channel (FLEET_001, ...); all of them share the emulator's one
# pipe and table, as a fleet shares one account. Started through the shell
# harness (tests/lib), one device at a time, so it starts them as every
# integration test does.
#
#   FLEET_DEVICES   pipelines (50)
#   FLEET_SECONDS   length of the measured window (120), after every
#                   device's first commit
#   FLEET_INTERVAL_MS  sensord's record interval (1000)
#   FLEET_JSON      the figures (default $BUILD/fleet.json)
#
# Then every sensord is restarted with a 600 s interval (its journal stops
# growing), every streamerd must get each device's last record committed and
# acked, and the emulator's table is audited device by device with the
# harness's tests/lib/check-table.py: every journaled seq exactly once, in
# order, with the device's name, on the device's channel; tests/bench/fleet.py
# report gathers the verdicts and the figures. Also measured: CPU and RSS per device, for
# sensord and streamerd apart, over the window; each channel's requests per
# second and 429/413 answers from the emulator's request log; row and
# request sizes from streamerd's metrics. Exit 0 when every device's table
# rows are exactly its journal and no daemon died; the figures go to
# FLEET_JSON, `make bench` prints them beside their targets. Every process is
# stopped and the scratch directory removed on any exit (the harness).
set -u
T_PREFIX=snowsense-fleet
. "$TOP/tests/lib/harness.sh"
need_cmd python3 sqlite3
need_built "$BIN/sensord" "$BIN/streamerd" "$BIN/snowpipe-emu" "$BIN/sdclient" \
	"$BUILD/lib/fakei2c.so"
# As streamerd's unit and supervise run it: GnuTLS (linked through libcurl,
# never used) skips its start-up initialisation, ~0.7 MiB of RSS per device.
export GNUTLS_NO_IMPLICIT_INIT=1

N=${FLEET_DEVICES:-50}
SECS=${FLEET_SECONDS:-120}
INTERVAL_MS=${FLEET_INTERVAL_MS:-1000}
OUT=${FLEET_JSON:-$BUILD/fleet.json}
HERE=$TOP/tests/bench
# number NAME VALUE MIN MAX: VALUE is a whole number in MIN..MAX.
number() {
	case $2 in '' | *[!0-9]*) fail "$1 must be a whole number, not '$2'" ;; esac
	if [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		fail "$1 must be $3..$4, not $2"
	fi
}
number FLEET_DEVICES "$N" 1 999
number FLEET_SECONDS "$SECS" 5 86400
number FLEET_INTERVAL_MS "$INTERVAL_MS" 100 60000

# The documented per-channel limits, enforced by the emulator (the
# limitations page of Snowpipe Streaming's high-performance architecture:
# 10 requests/s per channel, 4 MB per request on the wire, 2,000 channels
# per pipe); the rest is the emulator's default.
cat >"$T/limits.json" <<'EOF'
{"requests_per_s": 10, "max_body_bytes": 4194304, "max_channels": 2000}
EOF
emu_world "$T/fleet-world.json" \
	"s/\"commit_lag_ms\": 1000,/\"commit_lag_ms\": 1000, \"limits\": $(cat "$T/limits.json"),/"
EMU_WORLD=$T/fleet-world.json
# Chips at their real pace (time_scale 1), the values of a quiet room.
printf '%s\n' '{"time_scale": 1, "scd4x": {"co2": 612, "t": 21.5, "rh": 40.5},' \
	'"sgp30": {"eco2": 450, "tvoc": 12}, "icp10125": {"p": 100734.5, "t": 21.3}}' >"$CHIPS"
# the sockets' directory: sensord's user's alone, as sensord demands
mkdir -m 0755 "$T/run"
[ "$(id -u)" != 0 ] || chown "$RUN_USER:$RUN_GROUP" "$T/run"
: >"$T/pids"

# use_dev I: points the harness's sensord and streamerd variables at device
# I (and its running daemons); save_dev I keeps their pids.
use_dev() {
	DEV=$(printf 'fleet-%03d' "$1")
	CHANNEL=$(printf 'FLEET_%03d' "$1")
	D=$T/$DEV
	SENSORD_CONF=$D/sensord.json SENSORD_STATE=$D/state SENSORD_LOG=$D/sensord.log
	SENSORD_SOCK=$T/run/$DEV.sock SENSORD_METRICS=$T/run/$DEV.prom
	STREAMERD_CONF=$D/streamerd.json STREAMERD_LOG=$D/streamerd.log
	STREAMERD_METRICS=$D/streamerd.prom
	eval "SENSORD_PID=\${sd_pid_$1:-} STREAMERD_PID=\${sm_pid_$1:-}"
}

save_dev() {
	eval "sd_pid_$1=\$SENSORD_PID sm_pid_$1=\$STREAMERD_PID"
}

each_dev() {
	_ed_i=1
	while [ "$_ed_i" -le "$N" ]; do
		"$@" "$_ed_i"
		_ed_i=$((_ed_i + 1))
	done
}

# start_dev I: sensord (start_sensord returns once its socket answers),
# then streamerd at the production batching defaults (streamerd/config.c:
# a batch closes 1000 ms after its first row; commit polls every 500 ms).
start_dev() {
	use_dev "$1"
	mkdir "$D"
	sensord_conf "\"device\": \"$DEV\", \"interval_ms\": $INTERVAL_MS,"
	start_sensord
	streamerd_conf pat "\"channel_name\": \"$CHANNEL\", \"flush_interval_ms\": 1000, \"commit_poll_ms\": 500"
	start_streamerd
	save_dev "$1"
	echo "$DEV sensord $SENSORD_PID" >>"$T/pids"
	echo "$DEV streamerd $STREAMERD_PID" >>"$T/pids"
	sleep 0.1	# spread the first opens and appends
}

all_alive() {
	while read -r _aa_dev _aa_role _aa_pid; do
		alive "$_aa_pid" || fail "$_aa_role of $_aa_dev (pid $_aa_pid) died; see $T/$_aa_dev/$_aa_role.log"
	done <"$T/pids"
}

channels_committed() {
	[ "$(sqlite3 "$EMU_DB" 'SELECT count(DISTINCT CHANNEL) FROM THERMAL_SENSOR_DATA' \
		2>/dev/null || echo 0)" -ge "$N" ]
}

emu_stats_to() {
	AUTH='' req GET /_emu/stats
	expect_status 200 "GET /_emu/stats"
	printf '%s\n' "$BODY" >"$1"
}

sample() {
	python3 "$HERE/fleet.py" sample "$T/pids" "$1" || fail "sampling /proc"
}

# freeze_dev I: sensord again with a 600 s interval, so its journal stops
# growing and streamerd can catch up with its last seq.
freeze_dev() {
	use_dev "$1"
	stop_sensord
	start_sensord --interval 600
	save_dev "$1"
}

dev_caught_up() {
	_dc_s=$("$BIN/sdclient" -s "$SENSORD_SOCK" status 2>/dev/null) || return 1
	_dc_last=$(printf '%s\n' "$_dc_s" | sed -n 's/^last_seq=//p')
	[ -n "$_dc_last" ] && [ "$_dc_last" -gt 0 ] &&
		[ "$(printf '%s\n' "$_dc_s" | sed -n 's/^acked_seq=//p')" = "$_dc_last" ]
}

wait_caught_up() {
	use_dev "$1"
	poll "$catch_up_s" dev_caught_up ||
		fail "$DEV: streamerd did not get its last record acked within $catch_up_s s ($(sensord_status acked_seq) of $(sensord_status last_seq))"
}

stop_streamerd_dev() {
	use_dev "$1"
	stop_streamerd
	save_dev "$1"
}

# record_dev I: the device's journal, what sensord says is acked, and
# check-table.py's verdict on its rows (seqs 1..last once each, in order,
# with its HOSTNAME, on its channel; the other devices' rows are not its
# business), read with its streamerd stopped; then sensord stopped.
record_dev() {
	use_dev "$1"
	_rd_jid=$(sensord_status journal_id)
	_rd_last=$(sensord_status last_seq)
	_rd_check=ok
	python3 "$TOP/tests/lib/check-table.py" "$EMU_DB" "$_rd_last" "$_rd_jid" --shared \
		--device "$DEV" --channel "$CHANNEL" >"$D/check-table.out" 2>&1 || _rd_check=failed
	echo "$DEV $CHANNEL $_rd_jid $_rd_last $(sensord_status acked_seq) $_rd_check" \
		"$D/check-table.out $STREAMERD_METRICS $STREAMERD_LOG" >>"$T/devices"
	stop_sensord
	save_dev "$1"
}

start_emu -v
echo "$(date +%T) fleet: $N devices at one record per $INTERVAL_MS ms against $URL"
t_start=$(now_ms)
each_dev start_dev
echo "- emu $EMU_PID" >>"$T/pids"
started_s=$(awk -v a="$t_start" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
echo "$(date +%T) fleet: started in $started_s s; waiting for every channel's first commit"
wait_for $((60 + N)) "a committed row on each of the $N channels" channels_committed
all_alive

emu_stats_to "$T/stats0.json"
sample "$T/sample0.json"
t0=$(now_ms)
end=$((t0 + SECS * 1000))
while [ "$(now_ms)" -lt "$end" ]; do
	sleep 1	# short sleeps: a signal to this script is handled within a second
	all_alive
done
sample "$T/sample1.json"
t1=$(now_ms)
emu_stats_to "$T/stats1.json"
window_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
echo "$(date +%T) fleet: measured $window_s s; stopping each journal"

each_dev freeze_dev
catch_up_s=$((30 + N))
each_dev wait_caught_up
each_dev stop_streamerd_dev
: >"$T/devices"
each_dev record_dev
emu_stats_to "$T/stats-end.json"

rc=0
python3 "$HERE/fleet.py" report --devices "$T/devices" --s0 "$T/sample0.json" \
	--s1 "$T/sample1.json" --stats0 "$T/stats0.json" --stats1 "$T/stats1.json" \
	--stats-end "$T/stats-end.json" --db "$EMU_DB" --emu-log "$EMU_LOG" \
	--limits "$T/limits.json" --window "$window_s" --started "$started_s" \
	--interval-ms "$INTERVAL_MS" --out "$OUT" || rc=$?
stop_emu
[ "$rc" = 0 ] || fail "the table is not exactly each device's journal (see above, and $OUT)"
echo "ok: $N devices, every journaled record exactly once; figures in $OUT"
