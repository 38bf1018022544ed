#!/bin/sh
# What streamerd cannot fix itself stops it with exit 4 and a message that
# says what to do: a missing pipe or table (pointing to setup.sql), a key the
# user does not have (after one refresh), a bad PAT. The table's default
# pipe <TABLE>-STREAMING works when only "table" is configured, and
# --drop-channel removes the channel and its offset token. No secret in any
# output.
. "$TOP/tests/streamerd/lib.sh"

emu_start --commit-lag-ms 100
fs_start -n 20

# expect_exit CODE PATTERN: runs streamerd (foreground) to its exit.
expect_exit() {
	: > "$T/run.log"
	ASAN_OPTIONS=$SD_ASAN timeout -k 5 30 "$SD_BIN" -d -f "$T/sd.json" >"$T/run.log" 2>&1
	rc=$?
	[ $rc -eq "$1" ] || { cat "$T/run.log"; sd_fail "exit $rc, expected $1 ($2)"; }
	grep -q -- "$2" "$T/run.log" || { cat "$T/run.log"; sd_fail "no '$2' in the log"; }
	no_secrets "$T/run.log"
}

sd_conf jwt '"pipe": "NO_SUCH_PIPE"'
sed -i '/"pipe": "THERMAL_SENSOR_PIPE"/s/"pipe": "THERMAL_SENSOR_PIPE"/"_comment_p": "x"/' "$T/sd.json"
expect_exit 4 "NO_SUCH_PIPE.*config/snowflake/setup.sql"

sd_conf jwt '"table": "NO_SUCH_TABLE"'
sed -i 's/"pipe": "THERMAL_SENSOR_PIPE"/"_comment_p": "x"/' "$T/sd.json"
expect_exit 4 "NO_SUCH_TABLE-STREAMING.*setup.sql"

chmod 600 "$T/other.key"
sd_conf jwt
sed -i "s|$T/streamer.key|$T/other.key|" "$T/sd.json"
expect_exit 4 "authentication refused.*fingerprint"
grep -q "refreshing the token once\|HTTP 401" "$T/run.log" || sd_fail "no refresh before giving up"

realpat=$PAT
PAT=not-the-pat-$$
sd_conf pat
PAT=$realpat
expect_exit 4 "authentication refused\|HTTP 401"

# the default pipe, and --drop-channel
sd_conf jwt '"table": "THERMAL_SENSOR_DATA", "channel_name": "dflt"'
sed -i 's/"pipe": "THERMAL_SENSOR_PIPE"/"_comment_p": "x"/' "$T/sd.json"
sd_start
wait_acked 20 20
sd_stop
n=$(sqlite3 "$DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE CHANNEL = 'dflt'")
[ "$n" -eq 20 ] || sd_fail "default pipe: $n rows"
grep -q "pipe DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA-STREAMING" "$T/sd.log" || sd_fail "default pipe not used"
"$SD_BIN" --drop-channel -f "$T/sd.json" >"$T/drop.log" 2>&1 || { cat "$T/drop.log"; sd_fail "--drop-channel"; }
grep -q "channel dflt dropped" "$T/drop.log" || sd_fail "drop not reported"
c=$(sqlite3 "$DB" "SELECT count(*) FROM _emu_channels WHERE upper(channel_name) = 'DFLT'" 2>/dev/null || echo x)
[ "$c" = 0 ] || sd_fail "channel still in the emulator ($c)"
no_secrets "$T/sd.log" "$T/drop.log"
echo "ok: refusals exit 4 with their hints; default pipe and --drop-channel work"
