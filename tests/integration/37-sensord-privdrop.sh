#!/bin/sh
# As root: sensord opens the bus, journal and socket, then runs as the
# configured user and group with no capabilities, no supplementary groups,
# no_new_privs and a seccomp filter; the state dir is handed to that user.
. "$TOP/tests/integration/sensord-common.inc"
[ "$(id -u)" = 0 ] || skip "needs root (privilege drop)"
user=sdtest
created=""
if ! id "$user" >/dev/null 2>&1; then
	useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$user" ||
		skip "cannot create user $user"
	created=1
fi
cleanup_user() { [ -n "$created" ] && userdel "$user" 2>/dev/null; cleanup; }
trap cleanup_user EXIT
run_user=$user run_group=$user
write_conf '"socket_group": "'"$user"'", "journal": {"fsync": "never"},'

start_sensord --interval 0.05
wait_for last_seq 3
uid=$(id -u "$user") gid=$(id -g "$user")
st=/proc/$pid/status
grep -q "^Uid:	$uid	$uid	$uid	$uid$" "$st" || fail "$(grep ^Uid "$st")"
grep -q "^Gid:	$gid	$gid	$gid	$gid$" "$st" || fail "$(grep ^Gid "$st")"
grep -q "^Groups:	$gid *$" "$st" || fail "$(grep ^Groups "$st")"
for cap in CapInh CapPrm CapEff CapAmb; do
	grep -q "^$cap:	0000000000000000$" "$st" || fail "$(grep "^$cap" "$st")"
done
grep -q '^NoNewPrivs:	1$' "$st" || fail "no_new_privs not set"
grep -q '^Seccomp:	2$' "$st" || fail "no seccomp filter"
[ "$(stat -c %U "$dir/state")" = "$user" ] || fail "state dir owner $(stat -c %U "$dir/state")"
[ "$(stat -c %U:%G "$sock")" = "$user:$user" ] || fail "socket owner $(stat -c %U:%G "$sock")"
[ "$(stat -c %a "$sock")" = 660 ] || fail "socket mode $(stat -c %a "$sock")"
grep -q "dropped privileges to $user:$user" "$dir/log" || fail "no log line for the drop"
stop_sensord
[ $rc -eq 0 ] || fail "stop: exit $rc"
[ ! -e "$sock" ] || fail "the dropped daemon could not remove its socket"

# started as an unprivileged user: nothing to drop, same sandbox
rm -rf "$dir/state"
mkdir "$dir/state"
chown "$user:$user" "$dir/state"
"$with_chips" "$dir/chips.json" -- setpriv --reuid="$uid" --regid="$gid" --clear-groups \
	"$bin/sensord" -f "$conf" -d --interval 0.05 >>"$dir/log" 2>&1 &
pid=$!
pids="$pids $pid"
wait_for last_seq 3
grep -q "^Uid:	$uid	$uid	$uid	$uid$" "/proc/$pid/status" || fail "unprivileged start: $(grep ^Uid "/proc/$pid/status")"
grep -q '^Seccomp:	2$' "/proc/$pid/status" || fail "unprivileged start: no seccomp filter"
stop_sensord
[ $rc -eq 0 ] || fail "unprivileged stop: exit $rc"
echo "ok"
