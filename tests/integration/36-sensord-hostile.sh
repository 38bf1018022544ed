#!/bin/sh
# Malformed and hostile messages — the protocol fuzz corpus, random bytes,
# an oversized message, server-only ops — each close only their sender
# (with a log line naming its uid and pid) while a subscribed client keeps
# receiving every record. A uid that is not allowed is refused.
. "$TOP/tests/integration/sensord-common.inc"
write_conf '"socket_mode": "0666", "journal": {"fsync": "never"},'

start_sensord --interval 0.05
"$bin/sdclient" -s "$sock" follow now 60 >"$dir/follow" 2>&1 &
follower=$!
pids="$pids $follower"
mkdir "$dir/junk"
head -c 200 /dev/urandom >"$dir/junk/random"
head -c 70000 /dev/zero >"$dir/junk/oversized"
printf '\x80' >"$dir/junk/empty-map"
printf '\x81\xa2op\xa3rec' >"$dir/junk/server-op"
printf '\x82\xa2op\xa9subscribe\xa4from\xa5never' >"$dir/junk/bad-from"
printf '\xdd\xff\xff\xff\xff' >"$dir/junk/huge-array"
corpus=$TOP/tests/fuzz/common/corpus/fuzz_proto
files="$dir/junk/*"
[ -d "$corpus" ] && files="$files $corpus/*"
# shellcheck disable=SC2086
"$bin/sdclient" -s "$sock" raw $files >"$dir/raw" || fail "sdclient raw"
for f in random oversized empty-map server-op bad-from huge-array; do
	grep -q "^closed $dir/junk/$f$" "$dir/raw" || fail "$f did not close its sender: $(grep "$f" "$dir/raw")"
done
grep -q 'client uid=[0-9]* pid=[0-9]*: malformed message' "$dir/log" || fail "no log line naming the sender"
kill -0 "$pid" || fail "sensord died"
wait "$follower" || fail "the subscribed client suffered: $(tail -n 2 "$dir/follow")"
grep -q '^ok records=60 ' "$dir/follow" || fail "$(tail -n 1 "$dir/follow")"

if [ "$(id -u)" = 0 ]; then
	setpriv --reuid=4242 --regid=4242 --clear-groups "$bin/sdclient" -s "$sock" denied \
		>"$dir/denied" 2>&1 || fail "uid 4242: $(cat "$dir/denied")"
	grep -q 'refused client uid=4242' "$dir/log" || fail "no log line for the refusal"
	# allowed by uid
	stop_sensord
	write_conf '"socket_mode": "0666", "allowed_uids": [4242], "journal": {"fsync": "never"},'
	start_sensord --interval 0.05
	setpriv --reuid=4242 --regid=4242 --clear-groups "$bin/sdclient" -s "$sock" follow now 2 \
		>"$dir/allowed" 2>&1 || fail "allowed uid 4242 refused: $(cat "$dir/allowed")"
fi
stop_sensord
[ $rc -eq 0 ] || fail "stop: exit $rc"
echo "ok: $(grep -c '^closed' "$dir/raw") senders closed, $(grep -c '^open' "$dir/raw") valid"
