#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# How many bulk status calls streamerd makes per append, the unmodified
# daemons against the emulator at streamerd's defaults (flush_interval_ms
# 1000, commit_poll_ms 500) and sensord at one record a second: with the
# emulator's 1 s commit lag about one call confirms each append (it was
# two: a poll every 500 ms from the append on); with a 3 s lag, when
# several appends wait at once, one call confirms several of them (it was
# about four per append). The counts are the emulator's (GET /_emu/stats);
# every record still lands once, and sensord is acked no later than a few
# seconds behind the journal. Measured here: 1.12-1.20 and 0.67-0.87 per
# append; the bounds (1.4 and 1.0) leave room for a loaded machine and
# still fail the old scheduling by far.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd python3 sqlite3
SECS=${STATUS_POLL_SECONDS:-30}

# stats FILE: the emulator's counters into FILE
stats() {
	AUTH='' req GET /_emu/stats
	expect_status 200 "GET /_emu/stats"
	printf '%s' "$BODY" >"$1"
}
# per_append FROM TO MAX WHAT: status calls per accepted append between two
# stats files, at most MAX; prints the figures
per_append() {
	python3 - "$@" <<'PY' || fail "$4: too many status calls per append"
import json, sys
a, b = (json.load(open(p))["requests"] for p in sys.argv[1:3])
def n(r, route, code=None):
    by = r.get(route, {})
    return sum(v for k, v in by.items() if code is None or k == code)
appends = n(b, "append", "200") - n(a, "append", "200")
status = n(b, "status") - n(a, "status")
ratio = status / appends if appends else float("inf")
print("%s: %d appends, %d status calls, %.2f per append (at most %s)" %
      (sys.argv[4], appends, status, ratio, sys.argv[3]))
assert appends >= 8, "too few appends to tell"
sys.exit(0 if ratio <= float(sys.argv[3]) else 1)
PY
}
acked_near() {
	[ "$(sensord_status acked_seq)" -ge $(($(sensord_status last_seq) - $1)) ]
}

start_emu
sensord_conf ''
start_sensord --interval 1
streamerd_conf jwt '"channel_name": "polls", "flush_interval_ms": 1000, "commit_poll_ms": 500'
start_streamerd
poll 30 acked_near 3 || fail "not streaming: acked $(sensord_status acked_seq)"

# 1. the emulator's 1 s commit lag: about one call per append
sleep 5		# what it learned of the lag settles
stats "$T/s0"
sleep "$SECS"
stats "$T/s1"
per_append "$T/s0" "$T/s1" 1.4 "1 s commit lag"
acked_near 4 || fail "acks fell behind: $(sensord_status acked_seq) of $(sensord_status last_seq)"

# 2. a 3 s commit lag: several appends wait at once, one call for several
fault '{"kind":"commit_lag","ms":3000}'
sleep 20	# 1 s to 3 s: five polls that came too early, a quarter longer each
stats "$T/s2"
sleep "$SECS"
stats "$T/s3"
per_append "$T/s2" "$T/s3" 1.0 "3 s commit lag"
poll 10 acked_near 7 || fail "acks fell behind: $(sensord_status acked_seq) of $(sensord_status last_seq)"

# every record once, sensord acked to the end
fault '{"kind":"commit_lag","ms":200}'
stop_sensord
start_sensord --interval 600
last=$(sensord_status last_seq)
poll 20 acked_near 0 || fail "acked $(sensord_status acked_seq) of $last"
JOURNAL_ID=$(sensord_status journal_id) check_table "$last"
echo "ok: status calls per append bounded; $last records once"
