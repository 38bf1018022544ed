#!/bin/sh
# The keys that decide who reaches sensord's socket, tried as the clients
# would meet them:
#   socket_mode    0640: the socket file's mode (the default is 0660)
#   socket_group   (as root) the socket file's group, not sensord's group
#   allowed_gids   (as root) a client whose primary group is listed is
#                  served; the same client is refused when it is not
#   max_clients    2: a third client is turned away while two are
#                  connected, and served once one has gone
# (allowed_uids: hostile-clients.sh; socket: every test.)
set -eu
. "$TOP/tests/lib/harness.sh"

# socket_mode
sensord_conf '"socket_mode": "0640", "journal": {"fsync": "never"},'
start_sensord --interval 0.1
expect_eq "$(stat -c %a "$SENSORD_SOCK")" 640 "socket mode with socket_mode 0640"
stop_sensord

# max_clients: two clients that never read hold their places
sensord_conf '"max_clients": 2, "journal": {"fsync": "never"},'
start_sensord --interval 0.1
stuck=""
for i in 1 2; do
	"$BIN/sdclient" -s "$SENSORD_SOCK" stuck now >"$T/stuck$i" 2>&1 &
	track $! "client $i"
	stuck="$stuck $!"
	wait_for 10 "client $i to subscribe" grep -q subscribed "$T/stuck$i"
done
# shellcheck disable=SC2086 # two pids
set -- $stuck
rc=0
"$BIN/sdclient" -s "$SENSORD_SOCK" follow now 1 >"$T/third" 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "a third client was served with max_clients 2: $(cat "$T/third")"
grep -q 'refused client uid=[0-9]* pid=[0-9]*: already 2 clients' "$SENSORD_LOG" ||
	fail "no log line for the refused third client"
kill_pid "$1"
served() { "$BIN/sdclient" -s "$SENSORD_SOCK" follow now 2 >"$T/third" 2>&1; }
poll 10 served || fail "a client refused with one place free: $(cat "$T/third")"
kill_pid "$2"
stop_sensord

if [ "$(id -u)" != 0 ]; then
	echo "ok: socket_mode and max_clients (socket_group and allowed_gids need root)"
	exit 0
fi

# socket_group: a group other than sensord's own
group=$(id -gn daemon 2>/dev/null) || skip "no group daemon to give the socket to"
[ "$group" != "$RUN_GROUP" ] || skip "group $group is sensord's own"
sensord_conf '"socket_group": "'"$group"'", "journal": {"fsync": "never"},'
start_sensord --interval 0.1
expect_eq "$(stat -c %G "$SENSORD_SOCK")" "$group" "socket group with socket_group $group"
stop_sensord

# allowed_gids: uid 4242 with primary group 4343; the socket open to all
client() { setpriv --reuid=4242 --regid=4343 --clear-groups "$BIN/sdclient" -s "$SENSORD_SOCK" "$@"; }
sensord_conf '"socket_mode": "0666", "allowed_gids": [4343], "journal": {"fsync": "never"},'
start_sensord --interval 0.1
client follow now 2 >"$T/gid" 2>&1 || fail "gid 4343 in allowed_gids, refused: $(cat "$T/gid")"
stop_sensord
sensord_conf '"socket_mode": "0666", "allowed_gids": [4344], "journal": {"fsync": "never"},'
start_sensord --interval 0.1
client denied >"$T/gid" 2>&1 || fail "gid 4343 not in allowed_gids, yet not refused: $(cat "$T/gid")"
grep -q 'refused client uid=4242 gid=4343' "$SENSORD_LOG" || fail "no log line for the refused gid"
stop_sensord
echo "ok: socket_mode, max_clients, socket_group, allowed_gids"
