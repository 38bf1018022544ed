#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A short chaos run (CHAOS_SECONDS, default 30): the whole pipeline under
# fake chips, with SIGKILLs of each daemon, HTTP storms, dropped connections,
# token expiry, channel invalidation, commit stalls and a chip unplug at
# random instants; passes only when the emulator's table holds every
# journaled seq exactly once with the record's values. `make chaos` runs the
# same driver for longer (CHAOS_MINUTES, default 3).
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd python3
need_built "$BIN/sensord" "$BIN/streamerd" "$BIN/sensortap" "$BIN/snowpipe-emu" "$BUILD/lib/fakei2c.so"
rc=0
CHAOS_SECONDS=${CHAOS_SECONDS:-30} python3 "$TOP/tests/chaos/chaos" --mean-gap 2.5 || rc=$?
exit $rc
