#!/bin/sh
# Both daemons' metrics files, read by a real Prometheus text parser
# (Debian's python3-prometheus-client) as node_exporter's textfile
# collector would: every family has HELP and a TYPE, every series carries
# the device label exactly as configured (quote, backslash and all), the
# files are 0644, and the figures agree with what landed in the emulator's
# table once the pipeline is quiet.
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

start_emu --commit-lag-ms 200
streamerd_conf jwt '"channel_name": "metrics-test", "batch_max_rows": 10'
start_sensord --interval 0.1
start_streamerd
poll 30 acked_at_least 30 || fail "nothing acked: $(sensord_status acked_seq)"
# sensord's file while it runs (streamerd's first file is written before
# sensord has told it the device, so only its last one is checked)
check "$SENSORD_METRICS" sensord sensord_records_written_total='>0'

# quiet: sensord restarted with a long interval, streamerd commits the rest
stop_sensord
check "$SENSORD_METRICS" sensord
last=$(sed -n 's/^sensord_journal_last_seq{[^}]*} //p' "$SENSORD_METRICS")
start_sensord --interval 600
[ "$(sensord_status last_seq)" = "$last" ] ||
	fail "sensord's file says last seq $last, status $(sensord_status last_seq)"
jid=$(sensord_status journal_id)
poll 30 acked_is "$last" || fail "acked $(sensord_status acked_seq) of $last"
stop_streamerd		# writes its final file
stop_sensord
JOURNAL_ID=$jid check_table "$last"
rows=$(sql "SELECT count(*) FROM THERMAL_SENSOR_DATA")
check "$STREAMERD_METRICS" streamerd streamerd_committed_seq="$last" \
	streamerd_backlog_records=0 streamerd_rows_committed_total="$rows" \
	streamerd_records_missing_total=0 streamerd_commit_latency_seconds_count='>0' \
	streamerd_commit_latency_seconds_sum='>0'
echo "ok: both files parse (HELP, TYPE, device label \"$DEVICE\"); $last records, $rows rows, figures agree"
