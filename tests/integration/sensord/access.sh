#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Access by name (issue 15): allowed_users and allowed_groups admit readers
# by name, members of socket_group are admitted by a supplementary group
# too, and a refused user gets a hint that works: sensortap exits 5 and
# says what to do, and doing it lets the user in. A name that does not
# exist stops sensord with a configuration error naming the key. Users and
# groups are created for the test and removed at its end.
set -eu
. "$TOP/tests/lib/harness.sh"
need_root
need_cmd useradd userdel groupadd groupdel usermod gpasswd
need_built "$BIN/sensortap"
ua=ssta$$ ub=sstb$$ uc=sstc$$ g=sstg$$
_drop_users() {
	for _u in "$ua" "$ub" "$uc"; do userdel "$_u" >/dev/null 2>&1 || true; done
	groupdel "$g" >/dev/null 2>&1 || true
}
at_exit _drop_users
groupadd "$g"
for u in "$ua" "$ub"; do
	useradd --no-create-home --no-user-group --gid nogroup --shell /usr/sbin/nologin "$u"
done
useradd --no-create-home --no-user-group --gid nogroup --groups "$g" --shell /usr/sbin/nologin "$uc"

# tap USER ARGS: sensortap as USER with the groups a login would give it
tap() {
	_t_u=$1
	shift
	setpriv --reuid="$_t_u" --regid=nogroup --init-groups "$BIN/sensortap" -s "$SENSORD_SOCK" "$@"
}
# refused USER WANT: sensortap exits 5 and its message says WANT
refused() {
	rc=0
	tap "$1" --status >"$T/out" 2>&1 || rc=$?
	[ $rc -eq 5 ] || fail "$1: sensortap exit $rc, expected 5: $(cat "$T/out")"
	grep -qF "$2" "$T/out" || fail "$1: no \"$2\" in: $(cat "$T/out")"
}

# by name; the socket open to everyone so that sensord alone decides
sensord_conf '"socket_mode": "0666", "allowed_users": ["'"$ua"'"], "allowed_groups": ["'"$g"'"],
	"journal": {"fsync": "never"},'
start_sensord --interval 0.1
tap "$ua" --status >"$T/a" 2>&1 || fail "$ua in allowed_users refused: $(cat "$T/a")"
tap "$uc" --status >"$T/c" 2>&1 || fail "$uc in allowed_groups (supplementary) refused: $(cat "$T/c")"
refused "$ub" "uid $(id -u "$ub") is not allowed: ask to be named in allowed_users or allowed_groups"
grep -q "refused client uid=$(id -u "$ub")" "$SENSORD_LOG" || fail "no log line for $ub"
stop_sensord

# socket_group: the hint names it, and following it works
sensord_conf '"socket_mode": "0666", "socket_group": "'"$g"'", "journal": {"fsync": "never"},'
start_sensord --interval 0.1
refused "$ub" "join group \"$g\" (its socket_group)"
usermod -aG "$g" "$ub"
tap "$ub" -n 1 >"$T/b" 2>&1 || fail "$ub refused after joining $g: $(cat "$T/b")"
stop_sensord

# the socket's file permissions refuse first: the hint names its group
gpasswd -d "$ub" "$g" >/dev/null
sensord_conf '"socket_group": "'"$g"'", "journal": {"fsync": "never"},'
start_sensord --interval 0.1
refused "$ub" "it is for group \"$g\"; join it (\`sudo usermod -aG $g \$USER\`)"
stop_sensord

# names that do not exist: configuration errors, naming the key
sensord_conf '"allowed_users": ["no-such-user-'$$'"],'
rc=0
"$BIN/sensord" -n -f "$SENSORD_CONF" >"$T/n" 2>&1 || rc=$?
expect_eq "$rc" 3 "sensord -n exit with an unknown user in allowed_users"
grep -q "\"allowed_users\": user \"no-such-user-$$\" does not exist" "$T/n" || fail "$(cat "$T/n")"
sensord_conf '"streamer_user": "no-such-user-'$$'",'
rc=0
"$BIN/sensord" -n -f "$SENSORD_CONF" >"$T/n" 2>&1 || rc=$?
expect_eq "$rc" 3 "sensord -n exit with an unknown streamer_user"
grep -q "\"streamer_user\": user \"no-such-user-$$\" does not exist" "$T/n" || fail "$(cat "$T/n")"
echo "ok: readers by user and group name (supplementary groups count), refusals exit 5 with a hint that works"
