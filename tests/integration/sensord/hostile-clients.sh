#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Malformed and hostile messages — the protocol fuzz corpus, random bytes,
# an oversized message, server-only ops — each close only their sender
# (with a log line naming its uid and pid) while a subscribed client keeps
# receiving every record. A uid that is not allowed is refused.
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf '"socket_mode": "0666", "journal": {"fsync": "never"},'

start_sensord --interval 0.05
"$BIN/sdclient" -s "$SENSORD_SOCK" follow now 60 >"$T/follow" 2>&1 &
follower=$!
track $follower "the subscribed client"
mkdir "$T/junk"
head -c 200 /dev/urandom >"$T/junk/random"
head -c 70000 /dev/zero >"$T/junk/oversized"
printf '\x80' >"$T/junk/empty-map"
printf '\x81\xa2op\xa3rec' >"$T/junk/server-op"
printf '\x82\xa2op\xa9subscribe\xa4from\xa5never' >"$T/junk/bad-from"
printf '\xdd\xff\xff\xff\xff' >"$T/junk/huge-array"
corpus=$TOP/tests/fuzz/common/corpus/fuzz_proto
files="$T/junk/*"
[ -d "$corpus" ] && files="$files $corpus/*"
# shellcheck disable=SC2086
"$BIN/sdclient" -s "$SENSORD_SOCK" raw $files >"$T/raw" || fail "sdclient raw"
for f in random oversized empty-map server-op bad-from huge-array; do
	grep -q "^closed $T/junk/$f$" "$T/raw" || fail "$f did not close its sender: $(grep "$f" "$T/raw")"
done
grep -q 'client uid=[0-9]* pid=[0-9]*: malformed message' "$SENSORD_LOG" || fail "no log line naming the sender"
kill -0 "$SENSORD_PID" || fail "sensord died"
wait_exit "$follower" "the subscribed client" || fail "the subscribed client suffered: $(tail -n 2 "$T/follow")"
grep -q '^ok records=60 ' "$T/follow" || fail "$(tail -n 1 "$T/follow")"

if [ "$(id -u)" = 0 ]; then
	setpriv --reuid=4242 --regid=4242 --clear-groups "$BIN/sdclient" -s "$SENSORD_SOCK" denied \
		>"$T/denied" 2>&1 || fail "uid 4242: $(cat "$T/denied")"
	grep -q 'refused client uid=4242' "$SENSORD_LOG" || fail "no log line for the refusal"
	# allowed by uid
	stop_sensord
	sensord_conf '"socket_mode": "0666", "allowed_uids": [4242], "journal": {"fsync": "never"},'
	start_sensord --interval 0.05
	setpriv --reuid=4242 --regid=4242 --clear-groups "$BIN/sdclient" -s "$SENSORD_SOCK" follow now 2 \
		>"$T/allowed" 2>&1 || fail "allowed uid 4242 refused: $(cat "$T/allowed")"
fi
stop_sensord
echo "ok: $(grep -c '^closed' "$T/raw") senders closed, $(grep -c '^open' "$T/raw") valid"
