#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The directories sensord trusts (issue 13, attacks 2 to 4). As root it
# refuses, with exit 3 and a message naming the directory and the fix:
#   a state_dir that is a symbolic link (it used to give the link's target,
#   here a root-owned 0700 directory, to its user);
#   a state_dir another user created, mode 0777 (it used to adopt it);
#   a world-writable sticky state_dir (a fresh tmpfs);
#   a socket directory its group may write (the old 1770 /run/snowsense,
#   where any member could bind the socket path while sensord was down);
# and it creates a missing state_dir mode 0700, its user's alone.
set -eu
. "$TOP/tests/lib/harness.sh"
need_root
need_built "$BIN/sensord" "$BUILD/lib/fakei2c.so"

# refused WHAT WANT: sensord must stop at once with exit 3 saying WANT
refused() {
	rc=0
	timeout 20 "$WITH_CHIPS" "$CHIPS" -- "$BIN/sensord" -f "$SENSORD_CONF" -d >"$T/out" 2>&1 ||
		rc=$?
	[ $rc -eq 3 ] || fail "$1: sensord exit $rc, expected 3: $(tail -n 3 "$T/out")"
	grep -qF "$2" "$T/out" || fail "$1: no \"$2\" in: $(tail -n 3 "$T/out")"
	[ ! -S "$SENSORD_SOCK" ] || fail "$1: the socket was created"
}

# a symbolic link to a root-owned directory
mkdir -m 0700 "$T/secret"
ln -s "$T/secret" "$T/state-link"
SENSORD_STATE=$T/state-link
sensord_conf '"journal": {"fsync": "never"},'
refused symlink "state_dir $T/state-link is a symbolic link"
expect_eq "$(stat -c '%U %a' "$T/secret")" "root 700" "the link's target"

# created by another user, mode 0777
mkdir -m 0777 "$T/loose"
chown 4242:4242 "$T/loose"
chmod 0777 "$T/loose"
SENSORD_STATE=$T/loose
sensord_conf '"journal": {"fsync": "never"},'
refused foreign "state_dir $T/loose is owned by uid 4242, not by root or sensord's user $RUN_USER"
expect_eq "$(stat -c '%u %a' "$T/loose")" "4242 777" "the foreign directory"

# root's, but world-writable and sticky
mkdir -m 1777 "$T/sticky"
chmod 1777 "$T/sticky"
SENSORD_STATE=$T/sticky
sensord_conf '"journal": {"fsync": "never"},'
refused sticky "state_dir $T/sticky is writable by everyone (mode 1777)"
expect_eq "$(stat -c '%U %a' "$T/sticky")" "root 1777" "the sticky directory"
[ -z "$(ls -A "$T/sticky")" ] || fail "sensord wrote into the refused directory: $(ls -A "$T/sticky")"

# the socket's directory writable by its group
# shellcheck disable=SC2034 # read by sensord_conf and start_sensord
SENSORD_STATE=$T/state
sensord_conf '"journal": {"fsync": "never"},'
chgrp "$RUN_GROUP" "$T/run"
chmod 1770 "$T/run"
refused sockdir "socket's directory $T/run is writable by its group (mode 1770)"

# all well: a missing state_dir is created 0700 and given to sensord's user
chmod 0755 "$T/run"
start_sensord --interval 0.1
expect_eq "$(stat -c '%U %a' "$T/state")" "$RUN_USER 700" "the created state_dir"
stop_sensord
echo "ok: symlinked, foreign, world-writable state dirs and a group-writable socket dir refused; a new state dir is 0700"
