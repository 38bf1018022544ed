#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# As root: sensord opens the bus, journal and socket, then runs as the
# configured user and group with no capabilities, no supplementary groups,
# no_new_privs and a seccomp filter; the state dir is handed to that user;
# the start is one log line that says so.
set -eu
. "$TOP/tests/lib/harness.sh"
[ "$(id -u)" = 0 ] || skip "needs root (privilege drop)"
user=sdtest
created=""
if ! id "$user" >/dev/null 2>&1; then
	useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$user" ||
		skip "cannot create user $user"
	created=1
fi
[ -n "$created" ] && at_exit "userdel $user"
RUN_USER=$user RUN_GROUP=$user sensord_conf '"socket_group": "'"$user"'", "journal": {"fsync": "never"},'

start_sensord --interval 0.05
wait_sensord last_seq 3
uid=$(id -u "$user") gid=$(id -g "$user")
st=/proc/$SENSORD_PID/status
grep -q "^Uid:	$uid	$uid	$uid	$uid$" "$st" || fail "$(grep ^Uid "$st")"
grep -q "^Gid:	$gid	$gid	$gid	$gid$" "$st" || fail "$(grep ^Gid "$st")"
grep -q "^Groups:	$gid *$" "$st" || fail "$(grep ^Groups "$st")"
for cap in CapInh CapPrm CapEff CapAmb; do
	grep -q "^$cap:	0000000000000000$" "$st" || fail "$(grep "^$cap" "$st")"
done
grep -q '^NoNewPrivs:	1$' "$st" || fail "no_new_privs not set"
grep -q '^Seccomp:	2$' "$st" || fail "no seccomp filter"
[ "$(stat -c %U "$SENSORD_STATE")" = "$user" ] || fail "state dir owner $(stat -c %U "$SENSORD_STATE")"
[ "$(stat -c %U:%G "$SENSORD_SOCK")" = "$user:$user" ] || fail "socket owner $(stat -c %U:%G "$SENSORD_SOCK")"
[ "$(stat -c %a "$SENSORD_SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SENSORD_SOCK")"
grep -q " ready: device .*, running as $user:$user (dropped privileges)$" "$SENSORD_LOG" ||
	fail "the start line does not say the drop: $(grep " ready: " "$SENSORD_LOG")"
# one start line (a first start also says it made a new journal), no banner
head=$(sed -n '1,/ ready: /p' "$SENSORD_LOG")
[ "$(printf '%s\n' "$head" | grep '\[info\]' | grep -vc ' new journal ')" = 1 ] ||
	fail "more than one start line: $head"
stop_sensord
[ ! -e "$SENSORD_SOCK" ] || fail "the dropped daemon could not remove its socket"

# started as an unprivileged user: nothing to drop, same sandbox
rm -rf "$SENSORD_STATE"
mkdir "$SENSORD_STATE"
chown "$user:$user" "$SENSORD_STATE"
SENSORD_CMD_PREFIX="setpriv --reuid=$uid --regid=$gid --clear-groups" start_sensord --interval 0.05
wait_sensord last_seq 3
grep -q "^Uid:	$uid	$uid	$uid	$uid$" "/proc/$SENSORD_PID/status" || fail "unprivileged start: $(grep ^Uid "/proc/$SENSORD_PID/status")"
grep -q '^Seccomp:	2$' "/proc/$SENSORD_PID/status" || fail "unprivileged start: no seccomp filter"
stop_sensord
echo "ok"
