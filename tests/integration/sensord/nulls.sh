#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The record's rule for missing data, held against the real sensord on the
# fake chips, read back through sensortap: 18 scenarios side by side, one
# sensord each, records every 0.5 s (2 s in the 32 s unplug of issue 14),
# over every fault the chip models produce (NACK, CRC and flip bursts, busy,
# EIO/ETIMEDOUT, stuck data-ready, unplugs, power cycles, a chip absent at
# start, one disabled, a 0 ppm CO2, a chip left measuring). On every record:
# each chip has a state, its block is there exactly when the state is ok,
# since/error exactly when retrying and then a fault line names the chip, no
# null without a reason, no reason beside a value, every value the chip's
# (none from a response whose CRC failed), boot_id the kernel's. And the
# SGP30's baseline is saved at an orderly stop (owned by sensord's user),
# not at a stop during warm-up, not at a SIGKILL. The checks and the
# scenarios are in nulls-run.py, beside this test; the same rule over the
# chip manager alone, in virtual time, is unit test test_nulls.
set -u
. "$TOP/tests/lib/harness.sh"

need_cmd python3
need_built "$BIN/sensord" "$BIN/sensortap" "$BUILD/lib/fakei2c.so"

work=$T/nulls
# should the runner itself be killed, its sensords go too
nulls_teardown() {
	[ -f "$work/pids" ] || return 0
	while read -r pid; do
		kill -KILL -- "-$pid" 2>/dev/null || true
	done <"$work/pids"
}
at_exit nulls_teardown

DAEMON_ASAN=$DAEMON_ASAN timeout -s TERM 150 \
	python3 "$TOP/tests/integration/sensord/nulls-run.py" "$work" >"$T/out" 2>&1
rc=$?
cat "$T/out"
# the logs of the scenarios that failed are tailed
sed -n 's/^  FAIL \([a-z0-9-]*\):.*/\1/p' "$T/out" | sort -u >"$T/failed"
while read -r name; do
	watch_log "$work/$name/log"
done <"$T/failed"
[ "$rc" = 0 ] || fail "the rule for missing data does not hold (exit $rc; logs in $work)"
tail -n 1 "$T/out" | sed 's/^/ok: /'
