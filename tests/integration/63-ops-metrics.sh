#!/bin/sh
# Both daemons' metrics files, read by a real Prometheus text parser
# (Debian's python3-prometheus-client) as node_exporter's textfile
# collector would: every family has HELP and a TYPE, every series carries
# the device label exactly as configured (quote, backslash and all), the
# files are 0644, and the figures agree with what landed in the emulator's
# table once the pipeline is quiet.
. "$TOP/tests/streamerd/lib.sh"
with_chips=$TOP/tests/fakei2c/with-chips
[ -x "$with_chips" ] && [ -r "$BUILD/lib/fakei2c.so" ] && [ -x "$BUILD/bin/sdclient" ] ||
	{ echo "sensord's fake chips or sdclient are not built"; exit 77; }
[ "${SAN:-}" = 1 ] && { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS; }
# The parser is Debian's package (make deps); a python3 first in PATH that
# is not Debian's (pyenv, a venv) does not see it.
PY=
for py in python3 /usr/bin/python3; do
	"$py" -c 'import prometheus_client.parser' 2>/dev/null && { PY=$py; break; }
done
[ -n "$PY" ] || sd_fail "python3-prometheus-client is not installed (make deps)"

DEVICE='pi "7" \ lab'
sdir=$T/sensord
mkdir -p "$sdir" && chmod 755 "$T" "$sdir" && mkdir -m 1777 "$sdir/run"
SOCK=$sdir/run/sensord.sock
if [ "$(id -u)" = 0 ]; then ruser=nobody rgroup=$(id -gn nobody); else ruser=$(id -un) rgroup=$(id -gn); fi
printf '{"time_scale": 20, "scd4x": {"co2": 812, "t": 22.5, "rh": 41.0}, "sgp30": {"eco2": 450, "tvoc": 12}, "icp10125": {"p": 100734.5, "t": 21.3}}\n' >"$sdir/chips.json"
cat >"$sdir/sensord.json" <<JSON
{ "device": "pi \"7\" \\\\ lab", "state_dir": "$sdir/state", "socket": "$SOCK",
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
sn_stop() { kill -TERM "$SN_PID"; wait "$SN_PID" 2>/dev/null; SN_PID=; }
field() { "$BUILD/bin/sdclient" -s "$SOCK" status | sed -n "s/^$1=//p"; }
trap '[ -n "$SN_PID" ] && kill -9 "$SN_PID" 2>/dev/null; sd_cleanup' EXIT INT TERM

# check FILE DAEMON [KEY=VALUE...]: parses FILE, checks the format rules and
# the figures given (each KEY a sample name, labels aside)
check() {
	"$PY" - "$DEVICE" "$@" <<'PY' || sd_fail "$1: $(cat "$1")"
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

emu_start --commit-lag-ms 200
sd_conf jwt '"channel_name": "metrics-test", "batch_max_rows": 10'
sn_start --interval 0.1
sd_start
for _ in $(seq 300); do [ "$(field acked_seq)" -ge 30 ] && break; sleep 0.1; done
[ "$(field acked_seq)" -ge 30 ] || sd_fail "nothing acked: $(field acked_seq)"
# sensord's file while it runs (streamerd's first file is written before
# sensord has told it the device, so only its last one is checked)
check "$sdir/run/sensord.prom" sensord sensord_records_written_total='>0'

# quiet: sensord restarted with a long interval, streamerd commits the rest
sn_stop
check "$sdir/run/sensord.prom" sensord
last=$(sed -n 's/^sensord_journal_last_seq{[^}]*} //p' "$sdir/run/sensord.prom")
sn_start --interval 600
[ "$(field last_seq)" = "$last" ] || sd_fail "sensord's file says last seq $last, status $(field last_seq)"
JID=$(field journal_id)
for _ in $(seq 300); do [ "$(field acked_seq)" = "$last" ] && break; sleep 0.1; done
[ "$(field acked_seq)" = "$last" ] || sd_fail "acked $(field acked_seq) of $last"
sd_stop		# writes its final file
sn_stop
check_table "$last"
rows=$(sqlite3 "$DB" "SELECT count(*) FROM THERMAL_SENSOR_DATA")
check "$T/metrics.prom" streamerd streamerd_committed_seq="$last" \
	streamerd_backlog_records=0 streamerd_rows_committed_total="$rows" \
	streamerd_records_missing_total=0 streamerd_commit_latency_seconds_count='>0' \
	streamerd_commit_latency_seconds_sum='>0'
echo "ok: both files parse (HELP, TYPE, device label \"$DEVICE\"); $last records, $rows rows, figures agree"
