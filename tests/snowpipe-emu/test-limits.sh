#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# snowpipe-emu limits: 4 MB on the wire (413) while a larger body that
# compresses below it is fine, the decompressed cap, 10 requests/s per
# channel (429 + Retry-After), bad or unknown compression (400), oversized
# offset tokens, empty bodies, and --no-limits.
# The lenient emulator (--no-strict), as these paths were written for it;
# test-strict.sh shows each strict behaviour next to its lenient one.
set -u
. "$TOP/tests/lib/harness.sh"

emu_world "$T/limits.json" \
	's/"commit_lag_ms": 1000,/"commit_lag_ms": 0, "limits": { "max_decompressed_bytes": 20000000 },/'
EMU_WORLD=$T/limits.json start_emu --no-strict
scoped_token
open_channel l1

# ~5 MB of rows: 413 uncompressed, 200 gzipped (wire size is what counts)
i=0
row 1 > "$T/one"
while [ $i -lt 13 ]; do cat "$T/one" "$T/one" > "$T/two"; mv "$T/two" "$T/one"; i=$((i + 1)); done
size=$(wc -c < "$T/one")
[ "$size" -gt 4194304 ] || fail "test body only $size bytes"
append l1 0_1 big "$T/one"
expect_status 413 "body over 4 MB on the wire"
expect_body ERR_PAYLOAD_TOO_LARGE 413
gzip -c "$T/one" > "$T/one.gz"
append l1 0_1 big "$T/one.gz" -H 'Content-Encoding: gzip'
expect_status 200 "same rows gzipped"
wait_committed l1 big
expect_body "\"rows_inserted\":8192" "8192 rows from one request"
CT=1_2
open_channel l1

# decompressed cap (20 MB in this config)
cat "$T/one" "$T/one" "$T/one" "$T/one" "$T/one" | gzip -c > "$T/bomb.gz"
append l1 "$CT" bomb "$T/bomb.gz" -H 'Content-Encoding: gzip'
expect_status 413 "decompressed size over the cap"

# bad compression, unknown encoding, empty body, long offset token
printf 'this is not gzip' > "$T/junk"
append l1 "$CT" x "$T/junk" -H 'Content-Encoding: gzip'
expect_status 400 "corrupt gzip"
expect_body ERR_INVALID_COMPRESSED_PAYLOAD "corrupt gzip"
append l1 "$CT" x "$T/junk" -H 'Content-Encoding: zstd'
expect_status 400 "corrupt zstd"
row 2 | gzip -c | head -c 40 > "$T/trunc.gz"
append l1 "$CT" x "$T/trunc.gz" -H 'Content-Encoding: gzip'
expect_status 400 "truncated gzip"
append l1 "$CT" x "$T/junk" -H 'Content-Encoding: br'
expect_status 400 "unknown encoding"
expect_body ERR_UNSUPPORTED_CONTENT_ENCODING "unknown encoding"
: > "$T/empty"
append l1 "$CT" x "$T/empty"
expect_status 400 "empty body"
long=$(head -c 3000 /dev/zero | tr '\0' 'a')
row 3 > "$T/r3"
append l1 "$CT" "$long" "$T/r3"
expect_status 400 "offset token over 2048 bytes"
expect_body ERR_OFFSET_TOKEN_TOO_LONG "long token"
# none of the refused appends consumed the token
append l1 "$CT" ok3 "$T/r3"
expect_status 200 "append after the refusals"

# burst: 30 reopens of one channel on one keep-alive connection within a
# second; the answers' headers in $T/rate.hdrs
burst() {
	set --
	i=0
	while [ $i -lt 30 ]; do set -- "$@" "$URL/v2/streaming/$PIPE_PATH/channels/rl"; i=$((i + 1)); done
	curl -sS --cacert "$EMU_CA" -X PUT -H 'Accept: application/json' -H "Authorization: Bearer $SCOPED" \
		-H 'Content-Type: application/json' --data '{}' -D "$T/rate.hdrs" "$@" >/dev/null
}

# rate
burst || fail "rate burst"
n429=$(grep -c '^HTTP/[0-9.]* 429' "$T/rate.hdrs")
n200=$(grep -c '^HTTP/[0-9.]* 200' "$T/rate.hdrs")
if [ "$n429" -lt 10 ] || [ "$n200" -lt 10 ]; then fail "rate limit: $n200 x 200, $n429 x 429"; fi
grep -qi '^Retry-After: 1' "$T/rate.hdrs" || fail "429 without Retry-After"
# another channel is not affected
open_channel other

# --no-limits: no 429, 5 MB uncompressed accepted
stop_emu
EMU_WORLD=$T/limits.json start_emu --no-strict --no-limits
scoped_token
burst || fail "burst without limits"
[ "$(grep -c '^HTTP/[0-9.]* 429' "$T/rate.hdrs")" = 0 ] || fail "429 with --no-limits"
open_channel l2
append l2 "$CT" big "$T/one"
expect_status 200 "5 MB with --no-limits"
stop_emu
echo ok
