#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# No secrets in core files (issue 13, attack 7: a SIGSEGV of streamerd
# under `ulimit -c unlimited` wrote a core holding the PAT three times and
# the scoped token). Both daemons make themselves non-dumpable at start,
# whoever starts them; the units add LimitCORE=0 (systemd-units.sh).
# The kernel shows it from outside: the /proc/PID files of a non-dumpable
# process belong to root, those of a dumpable one to its own uid. So each
# daemon runs here as uid 4242 — as the units start them, unprivileged —
# and its /proc entry must be root's.
set -eu
. "$TOP/tests/lib/harness.sh"
need_root
# not_dumpable PID NAME: the process's /proc files become root's within
# 5 s (it makes itself non-dumpable early in main, after the exec)
_root_owned() { _o=$(stat -c %u "/proc/$1/status") && [ "$_o" = 0 ]; }
not_dumpable() {
	_o=""
	poll 5 _root_owned "$1" ||
		fail "$2 (uid 4242) is dumpable: its /proc files belong to uid ${_o:-?}"
}

# sensord, started unprivileged (nothing to drop, so nothing reset it)
mkdir -m 0700 "$SENSORD_STATE"
chown 4242:4242 "$SENSORD_STATE"
RUN_USER=4242 RUN_GROUP=4242 sensord_conf '"journal": {"fsync": "never"},'
SENSORD_CMD_PREFIX="setpriv --reuid=4242 --regid=4242 --clear-groups" \
	start_sensord --interval 0.1
not_dumpable "$SENSORD_PID" sensord
stop_sensord

# streamerd: its configuration (with the PAT) is 4242's, as credential
# files must belong to the user that reads them; no sensord is needed for
# it to start and wait
start_emu
streamerd_conf pat
chown 4242 "$STREAMERD_CONF"
env ASAN_OPTIONS="$DAEMON_ASAN" setpriv --reuid=4242 --regid=4242 --clear-groups \
	"$BIN/streamerd" -d -f "$STREAMERD_CONF" >>"$STREAMERD_LOG" 2>&1 &
STREAMERD_PID=$!
track "$STREAMERD_PID" streamerd
not_dumpable "$STREAMERD_PID" streamerd
stop_pid "$STREAMERD_PID" streamerd 5 any
echo "ok: sensord and streamerd, started as uid 4242, are not dumpable"
