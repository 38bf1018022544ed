#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Acknowledging is a right of its own (issue 13, attack 1: any reader said
# hello, then "ack <last seq>" without subscribing, and sensord deleted
# records nobody had committed). A reader's ack is refused however it asks;
# streamer_user's is refused without a subscription and beyond what its
# subscription was sent. Each refusal is an err to the client, a warning
# and a count in the metrics; the acked seq stays and retention deletes
# nothing. The streamer's ack of what it was sent is honoured, and then
# retention removes what it covers.
set -eu
. "$TOP/tests/lib/harness.sh"
need_root
# Small segments: an honoured ack would let retention delete some at once.
sensord_conf '"socket_mode": "0666", "allowed_uids": [4242],
	"journal": {"fsync": "never", "segment_bytes": 4096},'
start_sensord --interval 0.02
wait_sensord last_seq 150
last=$(sensord_status last_seq)
reader() { setpriv --reuid=4242 --regid=4242 --clear-groups "$BIN/sdclient" -s "$SENSORD_SOCK" "$@"; }
streamer() { "$BIN/sdclient" -s "$SENSORD_SOCK" "$@"; }

# refused CASE MESSAGE CMD...: the client's ack must come back as an err
refused() {
	_r_case=$1 _r_msg=$2
	shift 2
	"$@" >"$T/$_r_case" 2>&1 || fail "$_r_case: the ack was honoured: $(cat "$T/$_r_case")"
	grep -q "^refused code=[0-9]* msg=ack of seq $last refused: $_r_msg" "$T/$_r_case" ||
		fail "$_r_case: $(cat "$T/$_r_case")"
}
refused reader-bare "this client is read-only (only user $STREAMER_USER may ack)" \
	reader rogue-ack "$last"
refused reader-subscribed "this client is read-only" reader rogue-ack "$last" oldest
refused streamer-bare "not subscribed" streamer rogue-ack "$last"
refused streamer-now "this subscription was sent seqs up to 0 only" streamer rogue-ack "$last" now

sleep 1.2	# retention and the acked file run once a second
expect_eq "$(sensord_status acked_seq)" 0 "acked seq after four refused acks"
expect_eq "$(sensord_status first_seq)" 1 "oldest record after four refused acks"
[ "$(grep -c "warning.*ack of seq $last refused" "$SENSORD_LOG")" -eq 4 ] ||
	fail "expected 4 warnings for the refused acks: $(grep "ack of seq" "$SENSORD_LOG")"
grep -q '^sensord_acks_refused_total{device="itest"} 4$' "$SENSORD_METRICS" ||
	fail "metrics: $(grep acks_refused "$SENSORD_METRICS")"

# what the streamer was sent, it may acknowledge: then segments go
streamer ack "$last" >"$T/ack" 2>&1 || fail "the streamer's ack was refused: $(cat "$T/ack")"
wait_sensord first_seq $((last - 40)) 5
stop_sensord
echo "ok: 4 acks refused (reader twice, streamer unsubscribed and beyond what it was sent), nothing deleted; the streamer's honoured"
