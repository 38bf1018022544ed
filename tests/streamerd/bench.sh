#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# streamerd benchmark (for `make bench`): drain rate of a journal backlog
# into `snowpipe-emu --store count` for each compression, CPU seconds per
# 100k rows, peak and steady RSS, TLS connections opened, and append->commit
# latency p50/p99 at a steady trickle.
#
# usage: BUILD=$PWD/build TOP=$PWD tests/streamerd/bench.sh [BACKLOG] [STEADY_SECONDS]
# (a benchmark, not a test: run it by hand; `make bench` is tests/bench/bench)
#   BACKLOG         records journaled before streamerd starts (default 600000)
#   STEADY_SECONDS  length of the latency run at 5 records/s (default 30)
# Prints one line per compression and one latency line; exit 1 on a failed run.
set -u
BACKLOG=${1:-600000}
STEADY=${2:-30}
# shellcheck source=tests/lib/harness.sh
. "$TOP/tests/lib/harness.sh"

tick=$(getconf CLK_TCK)
cpu_s() { awk -v t="$tick" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

echo "streamerd bench: backlog $BACKLOG records, emulator --store count (rate limit on: 10 req/s)"
for comp in zstd gzip none; do
	rm -f "$EMU_DB" "$FAKE_SENSORD_STATE" "$STREAMERD_LOG"
	start_emu --store count --commit-lag-ms 200
	streamerd_conf jwt "\"compression\": \"$comp\", \"channel_name\": \"bench-$comp\""
	start_fake_sensord -n "$BACKLOG"
	start=$(date +%s.%N)
	start_streamerd
	wait_acked "$BACKLOG" 600
	end=$(date +%s.%N)
	cpu=$(cpu_s "$STREAMERD_PID")
	hwm=$(kib "$STREAMERD_PID" VmHWM)
	rss=$(kib "$STREAMERD_PID" VmRSS)
	stop_streamerd		# writes the final metrics file
	conns=$(sed -n 's/^streamerd_connections_opened_total{[^}]*} //p' "$STREAMERD_METRICS")
	wire=$(sed -n 's/^streamerd_appended_wire_bytes_total{[^}]*} //p' "$STREAMERD_METRICS")
	raw=$(sed -n 's/^streamerd_appended_raw_bytes_total{[^}]*} //p' "$STREAMERD_METRICS")
	stop_fake_sensord
	committed=$(emu_stat rows_committed)
	[ "$committed" -eq "$BACKLOG" ] || fail "emulator counted $committed rows, expected $BACKLOG"
	stop_emu
	python3 - "$comp" "$BACKLOG" "$start" "$end" "$cpu" "$hwm" "$rss" "${conns:-?}" "$raw" "$wire" <<'PY'
import sys
comp, n, t0, t1, cpu, hwm, rss, conns, raw, wire = sys.argv[1:]
n, secs, cpu = int(n), float(t1) - float(t0), float(cpu)
print("%-4s  %7.0f rows/s  %5.1f s  CPU %.2f s (%.3f s per 100k rows)  peak RSS %.1f MiB, "
      "after drain %.1f MiB  %s TLS connection(s)  wire/raw %.3f"
      % (comp, n / secs, secs, cpu, cpu * 100000 / n, int(hwm) / 1024, int(rss) / 1024, conns,
         int(wire) / max(1, int(raw))))
PY
done

# steady state: 5 records/s, default commit lag (1 s), flush and status poll every 200 ms
rm -f "$EMU_DB" "$FAKE_SENSORD_STATE"
start_emu --commit-lag-ms 1000
streamerd_conf jwt "\"channel_name\": \"bench-steady\""
start_fake_sensord -r 5
start_streamerd
sleep "$STEADY"
rss=$(kib "$STREAMERD_PID" VmRSS)
cpu=$(cpu_s "$STREAMERD_PID")
stop_streamerd
stop_fake_sensord
# the summary is in seconds; printed in ms
p50=$(awk '/^streamerd_commit_latency_seconds\{.*quantile="0.5"/ { print $NF * 1000 }' "$STREAMERD_METRICS")
p99=$(awk '/^streamerd_commit_latency_seconds\{.*quantile="0.99"/ { print $NF * 1000 }' "$STREAMERD_METRICS")
echo "steady 5 rec/s for ${STEADY}s (emulator commit lag 1000 ms): append->commit p50 ${p50} ms, p99 ${p99} ms, RSS $((rss / 1024)) MiB, CPU ${cpu} s"
