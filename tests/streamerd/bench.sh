#!/bin/sh
# streamerd benchmark (for `make bench`): drain rate of a journal backlog
# into `snowpipe-emu --store count` for each compression, CPU seconds per
# 100k rows, peak and steady RSS, TLS connections opened, and append->commit
# latency p50/p99 at a steady trickle.
#
# usage: BUILD=$PWD/build TOP=$PWD tests/streamerd/bench.sh [BACKLOG] [STEADY_SECONDS]
#   BACKLOG         records journaled before streamerd starts (default 600000)
#   STEADY_SECONDS  length of the latency run at 5 records/s (default 30)
# Prints one line per compression and one latency line; exit 1 on a failed run.
BACKLOG=${1:-600000}
STEADY=${2:-30}
. "$TOP/tests/streamerd/lib.sh"

tick=$(getconf CLK_TCK)
cpu_s() { awk -v t="$tick" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

echo "streamerd bench: backlog $BACKLOG records, emulator --store count (rate limit on: 10 req/s)"
for comp in zstd gzip none; do
	rm -f "$DB" "$T/fs.state" "$T/sd.log"
	emu_start --store count --commit-lag-ms 200
	sd_conf jwt "\"compression\": \"$comp\", \"channel_name\": \"bench-$comp\""
	fs_start -n "$BACKLOG"
	start=$(date +%s.%N)
	sd_start
	wait_acked "$BACKLOG" 600
	end=$(date +%s.%N)
	cpu=$(cpu_s "$SD_PID")
	hwm=$(kib "$SD_PID" VmHWM)
	rss=$(kib "$SD_PID" VmRSS)
	sd_stop		# writes the final metrics file
	conns=$(sed -n 's/^streamerd_connections_opened_total{[^}]*} //p' "$T/metrics.prom")
	wire=$(sed -n 's/^streamerd_bytes_compressed_total{[^}]*} //p' "$T/metrics.prom")
	raw=$(sed -n 's/^streamerd_bytes_raw_total{[^}]*} //p' "$T/metrics.prom")
	fs_stop
	committed=$(emu_stat rows_committed)
	[ "$committed" -eq "$BACKLOG" ] || sd_fail "emulator counted $committed rows, expected $BACKLOG"
	emu_stop
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
rm -f "$DB" "$T/fs.state"
emu_start --commit-lag-ms 1000
sd_conf jwt "\"channel_name\": \"bench-steady\""
fs_start -r 5
sd_start
sleep "$STEADY"
rss=$(kib "$SD_PID" VmRSS)
cpu=$(cpu_s "$SD_PID")
sd_stop
fs_stop
# the summary is in seconds; printed in ms
p50=$(awk '/^streamerd_commit_latency_seconds\{.*quantile="0.5"/ { print $NF * 1000 }' "$T/metrics.prom")
p99=$(awk '/^streamerd_commit_latency_seconds\{.*quantile="0.99"/ { print $NF * 1000 }' "$T/metrics.prom")
echo "steady 5 rec/s for ${STEADY}s (emulator commit lag 1000 ms): append->commit p50 ${p50} ms, p99 ${p99} ms, RSS $((rss / 1024)) MiB, CPU ${cpu} s"
