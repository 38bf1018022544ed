#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# What streamerd cannot fix itself stops it with exit 4 and a message that
# says what to do: a missing pipe or table (pointing to setup.sql), a key the
# user does not have (after one refresh), a bad PAT. The table's default
# pipe <TABLE>-STREAMING works when only "table" is configured, and
# --drop-channel removes the channel and its offset token. No secret in any
# output.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100
start_fake_sensord -n 20

# expect_exit CODE PATTERN: runs streamerd (foreground) to its exit.
watch_log "$T/run.log"	# the last run's output
expect_exit() {
	: > "$T/run.log"
	ASAN_OPTIONS=$DAEMON_ASAN timeout -k 5 30 "$STREAMERD_BIN" -d -f "$STREAMERD_CONF" >"$T/run.log" 2>&1
	rc=$?
	[ $rc -eq "$1" ] || fail "exit $rc, expected $1 ($2)"
	grep -q -- "$2" "$T/run.log" || fail "no '$2' in the log"
	no_secrets "$T/run.log"
}

streamerd_conf jwt '"pipe": "NO_SUCH_PIPE"'
sed -i '/"pipe": "THERMAL_SENSOR_PIPE"/s/"pipe": "THERMAL_SENSOR_PIPE"/"_comment_p": "x"/' "$STREAMERD_CONF"
expect_exit 4 "NO_SUCH_PIPE.*config/snowflake/setup.sql"

streamerd_conf jwt '"table": "NO_SUCH_TABLE"'
sed -i 's/"pipe": "THERMAL_SENSOR_PIPE"/"_comment_p": "x"/' "$STREAMERD_CONF"
expect_exit 4 "NO_SUCH_TABLE-STREAMING.*setup.sql"

openssl genrsa -out "$T/other.key" 2048 2>/dev/null || fail "openssl genrsa"
chmod 600 "$T/other.key"
streamerd_conf jwt
sed -i "s|$STREAMER_KEY|$T/other.key|" "$STREAMERD_CONF"
expect_exit 4 "authentication refused.*fingerprint"
grep -q "refreshing the token once\|HTTP 401" "$T/run.log" || fail "no refresh before giving up"

realpat=$PAT
PAT=not-the-pat-$$
streamerd_conf pat
PAT=$realpat
expect_exit 4 "authentication refused\|HTTP 401"

# the default pipe, and --drop-channel
streamerd_conf jwt '"table": "THERMAL_SENSOR_DATA", "channel_name": "dflt"'
sed -i 's/"pipe": "THERMAL_SENSOR_PIPE"/"_comment_p": "x"/' "$STREAMERD_CONF"
start_streamerd
wait_acked 20 20
stop_streamerd
n=$(sqlite3 "$EMU_DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE CHANNEL = 'DFLT'")  # stored upper-cased
[ "$n" -eq 20 ] || fail "default pipe: $n rows"
grep -q "pipe DEMO_DB.DEMO_SCHEMA.THERMAL_SENSOR_DATA-STREAMING" "$STREAMERD_LOG" || fail "default pipe not used"
"$STREAMERD_BIN" --drop-channel -f "$STREAMERD_CONF" >"$T/drop.log" 2>&1 || { cat "$T/drop.log"; fail "--drop-channel"; }
grep -q "channel dflt dropped" "$T/drop.log" || fail "drop not reported"
c=$(sqlite3 "$EMU_DB" "SELECT count(*) FROM _emu_channels WHERE upper(channel_name) = 'DFLT'" 2>/dev/null || echo x)
[ "$c" = 0 ] || fail "channel still in the emulator ($c)"
no_secrets "$STREAMERD_LOG" "$T/drop.log"
echo "ok: refusals exit 4 with their hints; default pipe and --drop-channel work"
