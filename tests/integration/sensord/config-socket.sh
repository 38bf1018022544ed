#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The keys that decide who reaches sensord's socket, tried as the clients
# would meet them:
#   socket_mode    0640: the socket file's mode (the default is 0660)
#   max_clients_per_uid  2: a third connection from one uid is turned away
#                  while two are held, and served once one has gone
#   (as root)
#   max_clients    4 with 2 per uid: the last two slots are kept for
#                  streamer_user (another uid is turned away from them),
#                  which takes them; a fifth client is turned away
#   socket_group   the socket file's group, not sensord's group; a member
#                  by a supplementary group only is served (SO_PEERGROUPS)
#   allowed_gids   a client whose primary group is listed is served; the
#                  same client is refused when it is not
# (allowed_uids: hostile-clients.sh; streamer_user, allowed_users and
# allowed_groups: access.sh; socket: every test.)
set -eu
. "$TOP/tests/lib/harness.sh"

# socket_mode
sensord_conf '"socket_mode": "0640", "journal": {"fsync": "never"},'
start_sensord --interval 0.1
expect_eq "$(stat -c %a "$SENSORD_SOCK")" 640 "socket mode with socket_mode 0640"
stop_sensord

# hold NAME [PREFIX...]: a client that subscribes and never reads, run
# under PREFIX (setpriv ...); sets held to its pid
hold() {
	_h_name=$1
	shift
	"$@" "$BIN/sdclient" -s "$SENSORD_SOCK" stuck now >"$T/$_h_name" 2>&1 &
	held=$!
	track "$held" "client $_h_name"
	wait_for 10 "client $_h_name to subscribe" grep -q subscribed "$T/$_h_name"
}
# turned_away NAME WHY [PREFIX...]: a client that must be refused with WHY
turned_away() {
	_t_name=$1 _t_why=$2
	shift 2
	rc=0
	"$@" "$BIN/sdclient" -s "$SENSORD_SOCK" follow now 1 >"$T/$_t_name" 2>&1 || rc=$?
	[ $rc -ne 0 ] || fail "client $_t_name was served: $(cat "$T/$_t_name")"
	grep -q "refused client uid=[0-9]* gid=[0-9]* pid=[0-9]*: $_t_why" "$SENSORD_LOG" ||
		fail "no log line 'refused client ...: $_t_why' for client $_t_name"
}

# max_clients_per_uid: this test's user is streamer_user, capped all the same
sensord_conf '"max_clients": 8, "max_clients_per_uid": 2, "journal": {"fsync": "never"},'
start_sensord --interval 0.1
hold a
a=$held
hold b
turned_away c "too many connections from uid $(id -u) (max_clients_per_uid 2)"
kill_pid "$a"
served() { "$BIN/sdclient" -s "$SENSORD_SOCK" follow now 2 >"$T/c" 2>&1; }
poll 10 served || fail "a client refused with a place of its uid free: $(cat "$T/c")"
stop_sensord

if [ "$(id -u)" != 0 ]; then
	echo "ok: socket_mode, max_clients_per_uid (the rest needs root)"
	exit 0
fi

# max_clients: uid 4242 may hold two, then the last two are root's
# (streamer_user here); beyond four, nobody
# exec: hold runs it in the background and tracks $!, which must be sdclient
# itself, or the clean-up kills a subshell and leaves sdclient running
as4242() { exec setpriv --reuid=4242 --regid=4242 --clear-groups "$@"; }
as4243() { setpriv --reuid=4243 --regid=4243 --clear-groups "$@"; }
sensord_conf '"socket_mode": "0666", "allowed_uids": [4242, 4243], "max_clients": 4,
	"max_clients_per_uid": 2, "journal": {"fsync": "never"},'
start_sensord --interval 0.1
hold x1 as4242
hold x2 as4242
turned_away x3 "too many clients (the last 2 slots are kept for root)" as4243
hold s1
hold s2
turned_away s3 "too many clients$"
stop_sensord

# socket_group: a group other than sensord's own, and its members by a
# supplementary group only
group=$(id -gn daemon 2>/dev/null) || skip "no group daemon to give the socket to"
[ "$group" != "$RUN_GROUP" ] || skip "group $group is sensord's own"
gid=$(getent group "$group" | cut -d: -f3)
sensord_conf '"socket_group": "'"$group"'", "journal": {"fsync": "never"},'
start_sensord --interval 0.1
expect_eq "$(stat -c %G "$SENSORD_SOCK")" "$group" "socket group with socket_group $group"
setpriv --reuid=4242 --regid=4343 --groups="$gid" "$BIN/sdclient" -s "$SENSORD_SOCK" follow now 2 \
	>"$T/member" 2>&1 || fail "a member of $group (supplementary) refused: $(cat "$T/member")"
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
echo "ok: socket_mode, max_clients_per_uid, max_clients and the streamer's slots, socket_group (supplementary groups), allowed_gids"
