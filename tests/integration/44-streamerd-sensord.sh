#!/bin/sh
# The whole pipeline with the real sensord on the emulated chips: streamerd
# is SIGKILLed at random instants, sensord is restarted cleanly and
# SIGKILLed, while the emulator commits; at the end every record sensord
# journaled is in the table exactly once, in order, sensord's acked seq is
# its last seq, and the rows carry the chips' values.
. "$TOP/tests/streamerd/lib.sh"
with_chips=$TOP/tests/fakei2c/with-chips
[ -x "$with_chips" ] && [ -r "$BUILD/lib/fakei2c.so" ] && [ -x "$BUILD/bin/sdclient" ] ||
	{ echo "sensord's fake chips or sdclient are not built"; exit 77; }
[ "${SAN:-}" = 1 ] && { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS; }

sdir=$T/sensord
mkdir -p "$sdir" && chmod 755 "$T" "$sdir" && mkdir -m 1777 "$sdir/run"
SOCK=$sdir/run/sensord.sock
if [ "$(id -u)" = 0 ]; then ruser=nobody rgroup=$(id -gn nobody); else ruser=$(id -un) rgroup=$(id -gn); fi
printf '{"time_scale": 20, "scd4x": {"co2": 812, "t": 22.5, "rh": 41.0}, "sgp30": {"eco2": 450, "tvoc": 12}, "icp10125": {"p": 100734.5, "t": 21.3}}\n' >"$sdir/chips.json"
cat >"$sdir/sensord.json" <<JSON
{ "device": "itest", "state_dir": "$sdir/state", "socket": "$SOCK",
  "metrics_file": "$sdir/run/sensord.prom", "user": "$ruser", "group": "$rgroup" }
JSON
SN_PID=
sn_start() {
	"$with_chips" "$sdir/chips.json" -- "$BUILD/bin/sensord" -f "$sdir/sensord.json" -d "$@" \
		>>"$sdir/log" 2>&1 &
	SN_PID=$!
	for _ in $(seq 200); do
		[ -S "$SOCK" ] && "$BUILD/bin/sdclient" -s "$SOCK" status >/dev/null 2>&1 && return 0
		kill -0 "$SN_PID" 2>/dev/null || { tail "$sdir/log"; sd_fail "sensord exited at start"; }
		sleep 0.05
	done
	sd_fail "sensord did not come up"
}
sn_stop() { kill "$1" "$SN_PID"; wait "$SN_PID" 2>/dev/null; SN_PID=; }
field() { "$BUILD/bin/sdclient" -s "$SOCK" status | sed -n "s/^$1=//p"; }
trap '[ -n "$SN_PID" ] && kill -9 "$SN_PID" 2>/dev/null; sd_cleanup' EXIT INT TERM

emu_start --commit-lag-ms 200
sd_conf jwt '"batch_max_rows": 30'
sn_start --interval 0.05
JID=$(field journal_id)
[ -n "$JID" ] || sd_fail "no journal id from sensord"
for round in 1 2 3 4 5 6; do
	sd_start
	sleep "$(python3 -c "import random; print(round(random.uniform(0.3, 1.5), 2))")"
	case $round in
	2) sn_stop -TERM; sn_start --interval 0.05 ;;	# sensord restarts under streamerd
	4) sn_stop -KILL; sn_start --interval 0.05 ;;	# sensord crashes
	esac
	sleep 0.5
	sd_kill9
done
sd_start
sleep 2
# freeze the journal: sensord restarted with a long interval
sn_stop -TERM
sn_start --interval 600
last=$(field last_seq)
for _ in $(seq 300); do
	[ "$(field acked_seq)" = "$last" ] && break
	sleep 0.1
done
[ "$(field acked_seq)" = "$last" ] || sd_fail "sensord acked $(field acked_seq), last seq $last"
[ "$(field journal_id)" = "$JID" ] || sd_fail "journal id changed"
sd_stop
sn_stop -TERM
check_table "$last" --device itest
bad=$(sqlite3 "$DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE HOSTNAME != 'itest' OR PRESSURE IS NOT NULL AND abs(PRESSURE - 100734.5) > 5")
[ "$bad" = 0 ] || sd_fail "$bad rows with wrong device or pressure"
# records carry only fresh measurements (a loaded machine may delay a
# chip's first one), so ask only that chip values reach the table at all
have=$(sqlite3 "$DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE CO2 IS NOT NULL OR PRESSURE IS NOT NULL OR TOTALVOCPPB IS NOT NULL")
[ "$have" -gt 0 ] || sd_fail "no row carries a chip value"
no_secrets "$T/sd.log"
echo "ok: real sensord, $last records exactly once through 6 streamerd kills and 2 sensord restarts"
