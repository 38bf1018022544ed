#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Power cuts under sensord, POWERCUT_CUTS (default 3) per fsync mode in
# POWERCUT_MODES (default: always interval never); `make chaos` runs more.
#
# The state dir lies on ext4 on a loop device. sensord runs on the emulated
# chips with a record every 20 ms and small segments (rolls every quarter
# second), and sensortap subscribes from the oldest record. At a random
# instant every later write to the loop device is held back (a blkio
# throttle of 1 byte/s on the root cgroup: nothing more reaches the image),
# the subscriber's output is noted, in-flight writes drain, and the image
# file is copied: that copy is the disk as the power cut left it. sensord
# goes on for 0.3 s (what it hands out then is "seen" too), the image must
# still equal the copy (the cut holds), then sensord and the subscriber are
# SIGKILLed and the throttle is lifted (the original image is thrown away). The copy is e2fsck'ed and mounted,
# --verify-journal reads it as found, a fresh sensord recovers it and adds
# records, is stopped, --verify-journal must then pass, and a replay from
# the oldest record is compared with what the subscriber saw
# (powercut-check.py, beside this test): no seq seen before the cut names another record
# after it, whatever the mode; what is lost lies in a gap the replay
# reports, the range sensord logged as skipped; fsync "always" loses
# nothing and skips nothing. Control: "never" must lose seen records in at
# least one cut, else the cut did not cut. The next cut of a mode runs on
# the recovered copy, so recoveries pile up as on a real device.
#
# Needs root, loop devices, ext4 tools and the cgroup v1 blkio throttle;
# skips (77) with the reason otherwise. Every mount, loop device and
# throttle rule is undone on any exit.
set -eu
. "$TOP/tests/lib/harness.sh"

cuts=${POWERCUT_CUTS:-3}
modes=${POWERCUT_MODES:-always interval never}
throttle=/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device
[ "$(id -u)" = 0 ] || skip "not root: power cuts need loop devices and mounts"
need_cmd losetup mkfs.ext4 e2fsck mount umount timeout python3
[ -w "$throttle" ] || skip "no cgroup v1 blkio throttle ($throttle) to cut writes with"
need_built "$BIN/sensortap"

loop="" mm="" mnt=$T/mnt tap=""
mkdir "$mnt"
# lift the throttle first: a process blocked on the device can then die
pc_teardown() {
	[ -n "$mm" ] && { echo "$mm 0" >"$throttle"; } 2>/dev/null
	[ -n "$tap" ] && kill_pid "$tap"
	kill_sensord
	tap=""
	if mountpoint -q "$mnt"; then
		timeout 30 umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	fi
	[ -n "$loop" ] && { losetup -d "$loop" 2>/dev/null || true; }
	loop="" mm=""
}
at_exit pc_teardown

# attach IMAGE: loop device and mount at $mnt
attach() {
	loop=$(losetup -f --show "$1") || skip "no free loop device"
	mm=$(lsblk -dno MAJ:MIN "$loop" | tr -d ' ')
	[ -n "$mm" ] || fail "no major:minor for $loop"
	echo "$mm 0" >"$throttle"	# a rule left on this device by someone else
	timeout 30 mount -t ext4 "$loop" "$mnt" || fail "mount $1"
}

# pc_conf MODE: sensord's config, its state dir on the mounted image
pc_conf() {
	SENSORD_STATE=$mnt/state sensord_conf '"journal": {"fsync": "'"$1"'", "fsync_interval_ms": 1000,
		"segment_bytes": 4096, "max_bytes": 16777216},'
}

# random_ms LOW HIGH
random_ms() {
	echo $(($1 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % ($2 - $1)))
}

# inflight_zero: until the loop device has no request in flight (2 s at most)
inflight_zero() {
	for _ in $(seq 100); do
		[ "$(tr -s ' ' <"/sys/block/${loop#/dev/}/inflight")" = " 0 0" ] && return 0
		sleep 0.02
	done
	fail "writes still in flight on $loop 2 s after the cut"
}

# verify OUT: --verify-journal into OUT, exit status in $vrc
verify() {
	vrc=0
	timeout 30 "$BIN/sensord" -f "$SENSORD_CONF" --verify-journal >"$1" 2>&1 || vrc=$?
}

# power_cut MODE N: one run of sensord ended by a power cut, then the recovery
power_cut() {
	c=$T/$1-$2
	mkdir "$c"
	pc_conf "$1"
	attach "$T/$1.img"
	: >"$SENSORD_LOG"
	start_sensord --interval 0.02
	"$BIN/sensortap" -s "$SENSORD_SOCK" --from oldest >"$c/seen" 2>"$c/seen.err" &
	tap=$!
	track $tap sensortap
	ms=$(random_ms 500 2500)
	sleep "$(echo "$ms" | awk '{ printf "%.3f", $1 / 1000 }')"
	echo "$mm 1" >"$throttle"	# the cut: no later write reaches the image
	cp "$c/seen" "$c/seen.at-cut"
	inflight_zero
	cp --sparse=always "$T/$1.img" "$c/img"
	sleep 0.3	# what sensord still hands out from the page cache counts too
	kill -9 "$tap" "$SENSORD_PID" 2>/dev/null || true
	# sensord kept writing (and fsyncing) after the cut: none of it landed
	cmp -s "$T/$1.img" "$c/img" || fail "$1 cut $2: writes reached the image after the cut"
	echo "$mm 0" >"$throttle"
	kill_pid "$tap"
	kill_sensord
	tap=""
	mv "$SENSORD_LOG" "$c/log.cut"
	pc_teardown
	mv "$c/img" "$T/$1.img"

	# recovery, on the copy
	frc=0
	timeout 60 e2fsck -fy "$T/$1.img" >"$c/fsck" 2>&1 || frc=$?
	[ $frc -le 1 ] || fail "$1 cut $2: e2fsck exit $frc: $(tail -n 5 "$c/fsck")"
	attach "$T/$1.img"
	verify "$c/verify.found"
	# as found, only the newest segment may be damaged: a torn last entry
	# (or a tail of zeros), or torn while it was being created (removed)
	[ $vrc -le 1 ] || fail "$1 cut $2: verify as found: exit $vrc: $(cat "$c/verify.found")"
	last=$(grep '^segment ' "$c/verify.found" | tail -n 1)
	if grep DAMAGED "$c/verify.found" | grep -q -v -F "$last" ||
	    echo "$last" | grep -o 'DAMAGED: [^;]*' | grep -q -v 'torn tail\|torn at creation'; then
		fail "$1 cut $2: damage other than at the newest segment's end: $(cat "$c/verify.found")"
	fi
	: >"$SENSORD_LOG"
	start_sensord --interval 0.02
	wait_sensord records_written 10
	skipped=$(sensord_status seqs_skipped)
	stop_sensord
	mv "$SENSORD_LOG" "$c/log.recovery"
	verify "$c/verify"
	[ $vrc -eq 0 ] || fail "$1 cut $2: the recovered journal does not verify: $(cat "$c/verify")"
	held=$(sed -n 's/.*, \([0-9]*\) entries,.*/\1/p' "$c/verify" | awk '{ n += $1 } END { print n }')
	: >"$SENSORD_LOG"
	start_sensord --interval 600
	timeout 30 "$BIN/sensortap" -s "$SENSORD_SOCK" --from oldest -n "$held" >"$c/replay" \
		2>"$c/replay.err" || fail "$1 cut $2: replay of $held records: $(cat "$c/replay.err")"
	stop_sensord
	grep -q 'journal: seqs [0-9]*\.\.[0-9]* skipped' "$SENSORD_LOG" &&
		fail "$1 cut $2: a clean restart skipped seqs: $(grep skipped "$SENSORD_LOG")"
	mv "$SENSORD_LOG" "$c/log.replay"
	pc_teardown

	skip_range=$(sed -n 's/.*journal: seqs \([0-9]*\)\.\.\([0-9]*\) skipped.*/\1 \2/p' "$c/log.recovery")
	res=$(python3 "$TOP/tests/integration/sensord/powercut-check.py" "$1" "$c/seen.at-cut" "$c/seen" \
		"$c/replay" "$c/replay.err" "$skip_range") || fail "$1 cut $2 (after ${ms} ms): $res"
	roll=""
	grep -q 'torn at creation\|empty, 40 bytes' "$c/log.recovery" "$c/verify.found" &&
		roll=" (the newest segment had no record on disk)"
	echo "$1 cut $2 after ${ms} ms$roll: $res, skipped ${skip_range:-nothing}," \
		"seqs_skipped $skipped"
	lost_at_cut=${res#*lost_at_cut=}
	lost_at_cut=${lost_at_cut%% *}
}

total_cuts=0
never_lost=0
start=$(date +%s)
for m in $modes; do
	truncate -s 32M "$T/$m.img"
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$T/$m.img" ||
		fail "mkfs.ext4"
	for n in $(seq "$cuts"); do
		power_cut "$m" "$n"
		total_cuts=$((total_cuts + 1))
		[ "$m" = never ] && never_lost=$((never_lost + lost_at_cut))
	done
done
case " $modes " in
*" never "*)
	[ "$never_lost" -gt 0 ] ||
		fail "control: fsync never lost no seen record in $cuts cuts, so the cut did not cut"
	;;
esac
echo "ok: $total_cuts cuts in $(($(date +%s) - start)) s; fsync never lost $never_lost seen records (control)"
