#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The bench's own programs still measure what they say, on small inputs:
# journal-bench's replay client reads every record's bytes (records come
# packed several to a message since sensord packs them for an sdsock
# client; it once counted messages as records and waited for ever), and
# row-bench reads a journal-fill backlog and prints its stages. `make
# bench` is not part of `make check`; this is its smoke test.
set -eu
. "$TOP/tests/lib/harness.sh"
need_built "$BIN/journal-bench" "$BIN/journal-fill" "$BIN/row-bench"

out=$(timeout 60 "$BIN/journal-bench" 3000 20 2>>"$T/bench.log") ||
	fail "journal-bench exited $? (see $T/bench.log)"
printf '%s\n' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["records"] == 3000, r
for k in ("append_fsync_never_per_s", "append_fsync_always_per_s", "replay_one_client_per_s"):
    assert r[k] > 0, (k, r)
' || fail "journal-bench printed $out"

mkdir "$T/fill"
"$BIN/journal-fill" "$T/fill" 2000 bench-pi 1000 >/dev/null 2>>"$T/bench.log" ||
	fail "journal-fill failed"
out=$(timeout 60 "$BIN/row-bench" "$T/fill" 1 2>>"$T/bench.log") ||
	fail "row-bench exited $? (see $T/bench.log)"
printf '%s\n' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["rows"] == 2000 and 0 < r["packs"] < 2000, r
assert r["decode_ns"] > 0 and r["total_ns"] >= r["decode_ns"], r
assert 500 < r["row_bytes"] < 4000 and 0 < r["wire_bytes"] < 2000 * r["row_bytes"], r
' || fail "row-bench printed $out"
echo "ok: journal-bench replayed 3000 records, row-bench timed 2000 rows"
