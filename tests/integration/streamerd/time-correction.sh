#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Records taken before the clock was synchronised get their true time in
# the table (issue 14, item 4). tests/fakeclock plays a Pi without a
# real-time clock to both unmodified daemons: the wall clock 3 days behind
# and adjtimex saying "not synchronised" (sensord marks its records synced:
# false; streamerd cannot even verify TLS certificates); then the clock
# stepped right but not yet said synchronised (streamerd reaches the
# service and holds the records, logging that once); then synchronised.
# Every early row must carry a time within a second of the truth (the
# record's own t, plus the 3 days for those taken before the step) in TS
# and DATETIMESTAMP, RAW_DATA keeping the record's t_ns and synced: false,
# plus time_corrected: true; later rows are as sensord wrote them; every
# record lands exactly once. Then a clock that never synchronises: records
# are held unsynced_hold_s, then sent as they are (not corrected).
set -u
. "$TOP/tests/lib/harness.sh"
need_built "$BUILD/lib/fakeclock.so"
need_cmd sqlite3

OFFSET_S=259200 # 3 days
clock() { # KEY VALUE...: replaces the control file atomically
	printf '%s %s\n' "$@" >"$T/clock.new" && mv "$T/clock.new" "$T/clock"
}
clock synced 0 offset_ns "-${OFFSET_S}000000000"
export FAKECLOCK_FILE="$T/clock"
# A sanitizer build of the preload comes before libasan.
DAEMON_ASAN="${DAEMON_ASAN:+$DAEMON_ASAN:}verify_asan_link_order=0"
# shellcheck disable=SC2034 # read by start_sensord
SENSORD_PRELOAD=$BUILD/lib/fakeclock.so

start_emu --commit-lag-ms 200
streamerd_conf pat '"channel_name": "clock-test", "unsynced_hold_s": 120'
start_sensord --interval 0.5
LD_PRELOAD=$BUILD/lib/fakeclock.so
export LD_PRELOAD
start_streamerd
unset LD_PRELOAD
wait_sensord last_seq 8
# The clock stepped right, the kernel not yet saying synchronised (as after
# a one-shot NTP step): streamerd can reach the service now, and holds the
# records, which it may not correct yet.
clock synced 0 offset_ns 0
t_step=$(date +%s)
said() { grep -q "the clock is not synchronised: records taken since boot wait up to 120 s" \
	"$STREAMERD_LOG"; }
wait_for 60 "streamerd to hold the records" said
sleep 2
[ "$(table_rows)" = 0 ] || fail "rows landed before the clock was synchronised"
early=$(sensord_status last_seq)
clock synced 1 offset_ns 0
t_sync=$(date +%s)
[ "$(grep -c "the clock is not synchronised: records" "$STREAMERD_LOG")" = 1 ] ||
	fail "the hold was not said once"
past_early() { [ "$(table_seqs)" -ge $((early + 10)) ]; }
poll 60 past_early || fail "only $(table_seqs) records landed after the clock was synchronised"
# --print-rows shows the rows streamerd appended: the early ones corrected
# the same way (to the clock's drift in between), the later ones as taken.
LD_PRELOAD=$BUILD/lib/fakeclock.so ASAN_OPTIONS=$DAEMON_ASAN timeout 30 "$STREAMERD_BIN" \
	-f "$STREAMERD_CONF" --print-rows $((early + 5)) --from 1 >"$T/printed" 2>"$T/print.err" ||
	fail "--print-rows: exit $?: $(cat "$T/print.err")"
sql "SELECT RAW_DATA FROM THERMAL_SENSOR_DATA" >"$T/appended"
python3 - "$T/printed" "$T/appended" "$early" <<'PY' || fail "--print-rows differs from what was appended"
import json, sys
printed = [json.loads(l) for l in open(sys.argv[1])]
table = {r["seq"]: r for r in map(json.loads, open(sys.argv[2]))}
early = int(sys.argv[3])
times = {"te", "systemtime", "starttime", "endtime", "datetimestamp", "ts"}
assert [r["seq"] for r in printed] == list(range(1, early + 6)), [r["seq"] for r in printed]
for r in printed:
    t = table[r["seq"]]
    assert r.get("time_corrected") == t.get("time_corrected") == (True if r["seq"] <= early else None), \
        ("time_corrected", r["seq"], r.get("time_corrected"), t.get("time_corrected"))
    assert abs(float(r["ts"]) - float(t["ts"])) < 0.01, ("ts", r["seq"], r["ts"], t["ts"])
    diff = {k for k in set(r) | set(t) if k not in times and r.get(k) != t.get(k)}
    assert not diff, ("differs", r["seq"], {k: (r.get(k), t.get(k)) for k in diff})
print("--print-rows: %d rows as appended, %d of them corrected" % (len(printed), early))
PY
jid=$(sensord_status journal_id)
stop_streamerd
stop_sensord
emu_settled
j1=$(sed -n 's/^sensord_journal_last_seq{[^}]*} //p' "$SENSORD_METRICS")
last=$(sql "SELECT max(json_extract(RAW_DATA, '\$.seq')) FROM THERMAL_SENSOR_DATA")
JOURNAL_ID=$jid check_table "$last"

# Per row: seq, synced, time_corrected, the record's t_ns, TS, DATETIMESTAMP.
sql "SELECT json_extract(RAW_DATA, '\$.seq'), json_extract(RAW_DATA, '\$.synced'),
	coalesce(json_extract(RAW_DATA, '\$.time_corrected'), 0), json_extract(RAW_DATA, '\$.t_ns'),
	TS, DATETIMESTAMP FROM THERMAL_SENSOR_DATA ORDER BY 1" >"$T/rows"
python3 - "$T/rows" "$OFFSET_S" "$early" "$t_sync" "$t_step" <<'PY' || fail "rows: $(cat "$T/rows")"
import calendar, sys, time
path, offset, early, t_sync, t_step = sys.argv[1], *map(int, sys.argv[2:])
fixed = plain = far = 0
for line in open(path):
    seq, synced, corrected, t_ns, ts, dts = line.rstrip("\n").split("|")
    seq, synced, corrected, t_ns, ts = int(seq), int(synced), int(corrected), int(t_ns), int(ts)
    dt = calendar.timegm(time.strptime(dts[:19], "%Y-%m-%d %H:%M:%S")) + float("0" + dts[19:])
    assert abs(dt - ts) < 1, ("TS and DATETIMESTAMP disagree", line)
    if not synced:
        # taken while the wall clock was 3 days behind (the truth is t + 3
        # days), or after it was stepped right
        truth = t_ns / 1e9 + (offset if t_ns / 1e9 < t_step - offset / 2 else 0)
        assert corrected == 1 and seq <= early, ("not corrected, or late", line)
        assert abs(dt - truth) < 1, ("corrected time off by %.3f s" % (dt - truth), line)
        assert dt < t_sync + 1, ("a corrected time after the sync", line)
        fixed += 1
        far += truth != t_ns / 1e9
    else:
        assert seq > early, ("an early record said synced", line)
        assert corrected == 0, ("a synced record marked corrected", line)
        assert ts == t_ns // 10**9, ("a synced record's time changed", line)
        plain += 1
assert fixed == early and far >= 8, ("unsynced records", fixed, far, early)
assert plain >= 5, ("too few records after the sync", plain)
print("ok: %d rows corrected (%d of them by %d s), within 1 s of the truth; %d rows as taken"
      % (fixed, far, offset, plain))
PY

# Never synchronised: held 2 s each, then sent as they are.
clock synced 0 offset_ns 0
streamerd_conf pat '"channel_name": "clock-test", "unsynced_hold_s": 2'
start_sensord --interval 0.5
LD_PRELOAD=$BUILD/lib/fakeclock.so
export LD_PRELOAD
start_streamerd
unset LD_PRELOAD
past_j1() { [ "$(table_seqs)" -ge $((j1 + 6)) ]; }
poll 30 past_j1 || fail "held records never landed: $(table_seqs) of $j1 + 6"
stop_streamerd
stop_sensord
n=$(sql "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE json_extract(RAW_DATA, '\$.seq') > $j1")
bad=$(sql "SELECT count(*) FROM THERMAL_SENSOR_DATA WHERE json_extract(RAW_DATA, '\$.seq') > $j1
	AND (json_extract(RAW_DATA, '\$.synced') != 0 OR json_extract(RAW_DATA, '\$.time_corrected') IS NOT NULL
	OR TS != json_extract(RAW_DATA, '\$.t_ns') / 1000000000)")
[ "$bad" = 0 ] || fail "$bad of $n rows of a boot never synchronised were changed"
echo "ok: $n rows of a clock never synchronised sent as taken after the hold"
