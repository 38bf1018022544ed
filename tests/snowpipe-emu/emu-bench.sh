#!/bin/sh
# emu-bench.sh BUILD_DIR [SECONDS]: starts snowpipe-emu in --store count mode
# over HTTPS and drives it with emu-load (zstd, then gzip), printing
# emu-load's JSON lines (rows_per_s). For `make bench`.
set -eu
BUILD=${1:?usage: emu-bench.sh BUILD_DIR [SECONDS]}
SECS=${2:-5}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
cp "$TOP/tests/snowpipe-emu/thermal.json" "$T/"
openssl genrsa -out "$T/streamer.key" 2048 2>/dev/null
openssl rsa -in "$T/streamer.key" -pubout -out "$T/streamer.pub" 2>/dev/null
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/streamer.pat"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 2 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
"$BUILD/bin/snowpipe-emu" --config "$T/thermal.json" --db "$T/emu.db" --store count \
	--no-limits --commit-lag-ms 100 --tls-cert "$T/tls.crt" --tls-key "$T/tls.key" \
	>"$T/out" 2>"$T/err" &
pid=$!
i=0
until grep -q 'listening on' "$T/out"; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/err" >&2; exit 1; }; sleep 0.1
done
url=$(sed -n 's/^snowpipe-emu: listening on //p' "$T/out")
for enc in zstd gzip; do
	"$BUILD/bin/emu-load" --url "$url" --cacert "$T/tls.crt" --pat-file "$T/streamer.pat" \
		--seconds "$SECS" --encoding "$enc" --rows 4000 --row-bytes 700 --channels 2
done
