#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Both daemons' metrics files, read by a real Prometheus text parser
# (Debian's python3-prometheus-client) as node_exporter's textfile
# collector would: every family has HELP and a TYPE, every series carries
# the device label exactly as configured (quote, backslash and all) from
# streamerd's first file on, the files are 0644 under the units' umask, and
# the figures agree with the journal and the emulator's table: during an
# outage (appends refused, the journal growing past what streamerd reads)
# pending = the journal's last seq - the committed seq; once the outage
# ends, the file follows a commit within a second, streamerd logs one
# "recovered after N s; M rows caught up" with M the rows that landed since,
# and when the pipeline is quiet the counters match the table. The state
# readers show (supervise status, sensortap --watch) is in the file:
# retrying since the first refusal with its reason during the outage, 0
# after it, and sensord_connected 0 as soon as sensord is stopped. sensord's
# file is rewritten at least every ~10 s even at a 600 s interval.
set -u
. "$TOP/tests/lib/harness.sh"
# The parser is Debian's package (make deps); a python3 first in PATH that
# is not Debian's (pyenv, a venv) does not see it.
PY=
for py in python3 /usr/bin/python3; do
	"$py" -c 'import prometheus_client.parser' 2>/dev/null && { PY=$py; break; }
done
[ -n "$PY" ] || fail "python3-prometheus-client is not installed (make deps)"

DEVICE='pi "7" \ lab'
sensord_conf '"device": "pi \"7\" \\ lab",'
printf '{"time_scale": 20, "scd4x": {"co2": 812, "t": 22.5, "rh": 41.0}, "sgp30": {"eco2": 450, "tvoc": 12}, "icp10125": {"p": 100734.5, "t": 21.3}}\n' >"$CHIPS"
acked_at_least() { [ "$(sensord_status acked_seq)" -ge "$1" ]; }
acked_is() { [ "$(sensord_status acked_seq)" = "$1" ]; }

# check FILE DAEMON [KEY=VALUE...]: parses FILE, checks the format rules and
# the figures given (each KEY a sample name, labels aside)
check() {
	"$PY" - "$DEVICE" "$@" <<'PY' || fail "$1: $(cat "$1")"
import os, stat, sys
from prometheus_client.parser import text_string_to_metric_families
device, path, daemon = sys.argv[1:4]
want = dict(kv.split("=", 1) for kv in sys.argv[4:])
assert stat.S_IMODE(os.stat(path).st_mode) == 0o644, oct(os.stat(path).st_mode)
text = open(path, encoding="utf-8").read()
assert text.endswith("\n")
fams = list(text_string_to_metric_families(text))
names = [f.name for f in fams]
assert len(names) == len(set(names)), ("a family split or repeated", names)
got = {}
for f in fams:
    # this parser makes an orphan sample an untyped family without help
    assert f.type in ("counter", "gauge", "summary"), (f.name, f.type)
    assert f.documentation, ("no HELP", f.name)
    assert f.name.startswith(daemon + "_"), f.name
    for s in f.samples:
        assert s.labels.get("device") == device, (s.name, s.labels)
        if "quantile" not in s.labels and "chip" not in s.labels:
            got[s.name] = s.value
for k, v in want.items():
    assert k in got, ("missing", k, sorted(got))
    if v.startswith(">"):
        assert got[k] > float(v[1:]), (k, got[k], v)
    else:
        assert got[k] == float(v), (k, got[k], v)
if daemon == "sensord":
    chips = {s.labels["chip"]: s.labels["state"] for f in fams if f.name == "sensord_chip_state"
             for s in f.samples}
    assert set(chips) == {"scd4x", "sgp30", "icp10125"}, chips
    assert got["sensord_journal_last_seq"] >= got["sensord_journal_acked_seq"]
if daemon == "streamerd":
    info = [s for f in fams if f.name == "streamerd_channel_info" for s in f.samples]
    assert [s.labels["channel"] for s in info] == ["metrics-test"], info
    lat = {s.name + s.labels.get("quantile", ""): s.value for f in fams
           if f.name == "streamerd_commit_latency_seconds" for s in f.samples}
    assert set(lat) == {"streamerd_commit_latency_seconds0.5",
                        "streamerd_commit_latency_seconds0.99",
                        "streamerd_commit_latency_seconds_sum",
                        "streamerd_commit_latency_seconds_count"}, lat
PY
}

# pipe_state FILE: what streamerd says it is doing, as the parser reads it:
# "RETRYING_SINCE SENSORD_CONNECTED REASON" (REASON "-" when none yet)
pipe_state() {
	"$PY" - "$1" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for f in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
    for s in f.samples:
        v[s.name] = s.labels["reason"] if s.name == "streamerd_last_error_info" else s.value
print("%d %d %s" % (v["streamerd_retrying_since_timestamp_seconds"],
                    v["streamerd_sensord_connected"], v.get("streamerd_last_error_info", "-")))
PY
}
# state_is FILE REGEX: pipe_state matches REGEX (extended)
state_is() {
	ps=$(pipe_state "$1") && printf '%s\n' "$ps" | grep -E -q "$2"
}

# file_is FILE SAMPLE VALUE: the sample (labels aside) has that value
file_is() {
	[ "$(sed -n "s/^$2{[^}]*} //p" "$1")" = "$3" ]
}
max_seq() {
	sql "SELECT coalesce(max(json_extract(RAW_DATA, '\$.seq')), 0) FROM THERMAL_SENSOR_DATA"
}

start_emu --commit-lag-ms 200
streamerd_conf jwt '"channel_name": "metrics-test", "batch_max_rows": 10'
umask 077 # as the units' UMask=0077: the files are 0644 all the same
start_sensord --interval 0.1
start_streamerd
umask 022
poll 30 acked_at_least 30 || fail "nothing acked: $(sensord_status acked_seq)"
check "$SENSORD_METRICS" sensord sensord_records_written_total='>0' \
	sensord_last_commit_timestamp_seconds='>1700000000'
check "$STREAMERD_METRICS" streamerd streamerd_last_commit_timestamp_seconds='>1700000000'
state_is "$STREAMERD_METRICS" '^0 1 ' || fail "streaming, but the state is: $ps"

# Quiet first (sensord restarted with a long interval, the table caught up
# with the journal), so the outage starts with nothing in flight. Then the
# outage: every append refused (503) while sensord journals a record every
# 0.1 s, then sensord restarted with a long interval again, so the journal
# ends at a known seq well past what streamerd read before its buffers
# filled (3 batches of 10 rows).
stop_sensord
start_sensord --interval 600
caught_up() { [ "$(max_seq)" = "$(sensord_status last_seq)" ]; }
poll 30 caught_up || fail "the table did not catch up: $(max_seq) of $(sensord_status last_seq)"
c=$(max_seq)
poll 15 file_is "$STREAMERD_METRICS" streamerd_committed_seq "$c" ||
	fail "streamerd's file never said the table's $c is committed: $(cat "$STREAMERD_METRICS")"
t0=$(date +%s)
fault '{"kind": "status", "status": 503, "route": "append", "count": -1}'
stop_sensord
start_sensord --interval 0.1
wait_for 15 "a refused append" grep -q "HTTP 503.*retrying" "$STREAMERD_LOG"
# (the sensord restart itself may have been logged as recovered from)
from=$(($(grep -n "HTTP 503.*retrying" "$STREAMERD_LOG" | head -n 1 | cut -d: -f1) + 1))
sleep 6
stop_sensord
start_sensord --interval 600
sleep 1
last=$(sensord_status last_seq)
[ "$last" -gt $((c + 40)) ] || fail "only $((last - c)) records journaled during the outage"
poll 25 file_is "$STREAMERD_METRICS" streamerd_journal_last_seq "$last" ||
	fail "streamerd's file never said the journal ends at $last: $(cat "$STREAMERD_METRICS")"
[ "$(max_seq)" = "$c" ] || fail "rows landed during the outage"
check "$STREAMERD_METRICS" streamerd streamerd_pending_records=$((last - c)) \
	streamerd_journal_last_seq="$last" streamerd_committed_seq="$c" streamerd_retries_total='>0'
check "$SENSORD_METRICS" sensord sensord_journal_last_seq="$last"
recovered_lines() { tail -n +"$from" "$STREAMERD_LOG" | grep -c "recovered after"; }
[ "$(recovered_lines)" = 0 ] || fail "recovered during the outage"
# retrying since the first refusal, and why, without a token or a URL
state_is "$STREAMERD_METRICS" '^[0-9]+ 1 append: HTTP 503( [A-Za-z0-9_]+)?$' ||
	fail "during the outage the state is: $ps"
since=${ps%% *}
{ [ "$since" -ge $((t0 - 1)) ] && [ "$since" -le "$(date +%s)" ]; } ||
	fail "retrying since $since, but the refusals began at $t0"
echo "during the outage: journal at $last, table at $c, pending $((last - c))"

# The end of it: the file follows the commits within a second.
AUTH='' req DELETE /_emu/faults
expect_status 200 "DELETE /_emu/faults"
seq_is() { [ "$(max_seq)" = "$1" ]; }
poll 30 seq_is "$last" || fail "the table reached only $(max_seq) of $last"
poll 1.5 file_is "$STREAMERD_METRICS" streamerd_committed_seq "$last" ||
	fail "the file did not follow the commit of $last within a second: $(cat "$STREAMERD_METRICS")"
poll 5 file_is "$STREAMERD_METRICS" streamerd_pending_records 0 || fail "pending not 0 once caught up"
# no longer retrying; the last error is kept for whoever asks what it was
state_is "$STREAMERD_METRICS" '^0 1 append: HTTP 503' || fail "caught up, but the state is: $ps"
recovered() { [ "$(recovered_lines)" -ge 1 ]; }
poll 5 recovered || fail "no \"recovered\" line"
sleep 1
[ "$(recovered_lines)" = 1 ] || fail "$(recovered_lines) \"recovered\" lines, want 1"
line=$(tail -n +"$from" "$STREAMERD_LOG" | grep "recovered after")
nm=$(recovered_nm "$line") n=${nm% *} m=${nm#* }
[ "$m" = $((last - c)) ] || fail "$line: $((last - c)) rows landed since the outage began"
if [ "$n" -lt 3 ] || [ "$n" -gt 120 ]; then
	fail "$line: the outage lasted more than 3 s, less than 120"
fi

# sensord stopped: the file says so at once (not at the next 10 s rewrite)
stop_sensord
poll 3 state_is "$STREAMERD_METRICS" '^0 0 ' || fail "sensord stopped, but the state is: $ps"
start_sensord --interval 600
poll 10 state_is "$STREAMERD_METRICS" '^0 1 ' || fail "sensord back, but the state is: $ps"
# sensord's file at a 600 s interval: rewritten at least every ~10 s all
# the same, with the acked seq as it is now
m0=$(stat -c %Y "$SENSORD_METRICS")
newer() { [ "$(stat -c %Y "$SENSORD_METRICS")" -gt "$1" ]; }
poll 12 newer "$m0" || fail "sensord's file not rewritten for 12 s at a 600 s interval"
m1=$(stat -c %Y "$SENSORD_METRICS")
poll 12 newer "$m1" || fail "sensord's file rewritten once, then not for 12 s"
check "$SENSORD_METRICS" sensord sensord_journal_acked_seq="$(sensord_status acked_seq)"

jid=$(sensord_status journal_id)
stop_streamerd		# writes its final file
stop_sensord
JOURNAL_ID=$jid check_table "$last"
rows=$(sql "SELECT count(*) FROM THERMAL_SENSOR_DATA")
check "$STREAMERD_METRICS" streamerd streamerd_committed_seq="$last" \
	streamerd_pending_records=0 streamerd_rows_committed_total="$rows" \
	streamerd_records_missing_total=0 streamerd_commit_latency_seconds_count='>0' \
	streamerd_commit_latency_seconds_sum='>0'
echo "ok: both files parse (HELP, TYPE, device label \"$DEVICE\"); $line; $last records, $rows rows, figures agree"
