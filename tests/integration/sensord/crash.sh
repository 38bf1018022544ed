#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# SIGKILL during appends, 20 times, with small segments so kills also land
# around segment rolls. After each kill sensord restarts (recovering a torn
# tail if there is one) and is stopped cleanly; then --verify-journal must
# pass, the journal id must not change, every record from the oldest held
# to the newest must be there with consecutive seqs (no gap, no repeat),
# and an ack persisted before the kill must still be there.
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf '"journal": {"fsync": "always", "segment_bytes": 4096, "max_bytes": 67108864},'

start_sensord --interval 0.02
id=$(sensord_status journal_id)
stop_sensord
prev=0 acked=0
for round in $(seq 20); do
	start_sensord --interval 0.02
	wait_sensord last_seq $((prev + 5))
	if [ $((round % 3)) = 0 ]; then
		# ack something, give the once-a-second persistence time
		acked=$(( $(sensord_status last_seq) - 3 ))
		"$BIN/sdclient" -s "$SENSORD_SOCK" ack "$acked" >/dev/null || fail "ack $acked"
		sleep 1.2
	fi
	sleep "0.$(( $(od -An -N1 -tu1 /dev/urandom) % 5 ))$(( $(od -An -N1 -tu1 /dev/urandom) % 10 ))"
	kill_sensord
	start_sensord --interval 0.02
	[ "$(sensord_status journal_id)" = "$id" ] || fail "round $round: journal id changed"
	a=$(sensord_status acked_seq)
	[ "$a" -ge "$acked" ] || fail "round $round: acked seq went back from $acked to $a"
	stop_sensord
	"$BIN/sensord" -f "$SENSORD_CONF" --verify-journal >"$T/verify" ||
		fail "round $round: verify: $(cat "$T/verify")"
	line=$(sed -n 's/^journal [0-9a-f]*: [0-9]* segments, seq \([0-9]*\)\.\.\([0-9]*\), clean$/\1 \2/p' "$T/verify")
	[ -n "$line" ] || fail "round $round: verify output: $(cat "$T/verify")"
	first=${line% *} last=${line#* }
	[ "$last" -gt "$prev" ] || fail "round $round: last seq $last not after $prev"
	[ "$first" -le $((acked + 1)) ] || fail "round $round: unacked records gone (first $first, acked $acked)"
	# every record held, consecutive (sdclient fails on a jump or repeat)
	start_sensord --interval 10
	"$BIN/sdclient" -s "$SENSORD_SOCK" follow "$first" $((last - first + 1)) >"$T/follow" ||
		fail "round $round: replay $first..$last: $(tail -n 3 "$T/follow")"
	grep -q "^ok records=$((last - first + 1)) first=$first last=$last$" "$T/follow" ||
		fail "round $round: $(tail -n 1 "$T/follow")"
	stop_sensord
	prev=$last
done
grep -q 'torn tail' "$SENSORD_LOG" && echo "(torn tails were recovered)"
echo "ok: 20 kills, last seq $prev"
