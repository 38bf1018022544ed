#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# emu-bench.sh BUILD_DIR [SECONDS]: starts snowpipe-emu in --store count mode
# over HTTPS and drives it with emu-load (zstd, then gzip), printing
# emu-load's JSON lines (rows_per_s). A benchmark, not a test: run it by hand.
set -eu
BUILD=${1:?usage: emu-bench.sh BUILD_DIR [SECONDS]}
SECS=${2:-5}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
# shellcheck source=tests/lib/harness.sh
. "$TOP/tests/lib/harness.sh"
start_emu --store count --no-limits --commit-lag-ms 100
for enc in zstd gzip; do
	"$BIN/emu-load" --url "$URL" --cacert "$EMU_CA" --pat-file "$T/streamer.pat" \
		--seconds "$SECS" --encoding "$enc" --rows 4000 --row-bytes 700 --channels 2
done
stop_emu
