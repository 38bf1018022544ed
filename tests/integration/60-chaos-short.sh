#!/bin/sh
# A short chaos run (CHAOS_SECONDS, default 30): the whole pipeline under
# fake chips, with SIGKILLs of each daemon, HTTP storms, dropped connections,
# token expiry, channel invalidation, commit stalls and a chip unplug at
# random instants; passes only when the emulator's table holds every
# journaled seq exactly once with the record's values. `make chaos` runs the
# same driver for longer (CHAOS_MINUTES, default 3).
set -u
[ -x "$TOP/tests/fakei2c/with-chips" ] || { echo "tests/fakei2c/with-chips is not there yet"; exit 77; }
for p in sensord streamerd sensortap snowpipe-emu; do
	[ -x "$BUILD/bin/$p" ] || { echo "$p is not built"; exit 77; }
done
command -v python3 >/dev/null 2>&1 || { echo "python3 not installed"; exit 77; }
CHAOS_SECONDS=${CHAOS_SECONDS:-30} exec python3 "$TOP/tests/chaos/chaos" --mean-gap 2.5
