#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The systemd units, sysusers.d and tmpfiles.d files as installed:
# `systemd-analyze verify` accepts the units with no warning (ExecStart
# names the installed binaries, so they must exist), the hardening asked for
# is there (no core files: LimitCORE=0), streamerd restarts independently
# of sensord, the exposure score stays low, and systemd-sysusers/
# systemd-tmpfiles create the users and directories in a scratch root: the
# socket's directory and the journal's writable by sensord's user alone
# (the same modes as the units' RuntimeDirectoryMode/StateDirectoryMode).
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd systemd-analyze systemd-sysusers systemd-tmpfiles
need_built "$BIN/sensord" "$BIN/streamerd" "$BIN/sensortap"

# A real prefix, so ExecStart points at installed binaries.
p=$T/prefix
watch_log "$T/install.log"
make -s -C "$TOP" BUILD="$BUILD" install PREFIX="$p" SYSCONFDIR="$T/etc" >"$T/install.log" 2>&1 ||
	fail "make install failed"
units=$p/lib/systemd/system
grep -q "^ExecStart=$p/sbin/sensord " "$units/sensord.service" || fail "sensord ExecStart not in the prefix"

for u in sensord streamerd; do
	if ! systemd-analyze verify --man=no "$units/$u.service" >"$T/$u.verify" 2>&1; then
		fail "systemd-analyze verify $u.service failed: $(cat "$T/$u.verify")"
	fi
	[ ! -s "$T/$u.verify" ] || fail "systemd-analyze verify $u.service complained: $(cat "$T/$u.verify")"
	score=$(systemd-analyze security --offline=yes --man=no "$units/$u.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	echo "$u.service exposure $score"
	awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }' || fail "$u.service exposure ${score:-?} > 2.0"
done

# What the issue asks of each unit, literally.
has() { grep -q "^$2\$" "$units/$1.service" || fail "$1.service lacks '$2'"; }
for u in sensord streamerd; do
	for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
		CapabilityBoundingSet= 'StateDirectory=.*' 'RuntimeDirectory=.*' \
		'RestartPreventExitStatus=2 3' LimitCORE=0; do
		has $u "$k"
	done
done
# Type=notify with a watchdog, for a daemon that speaks sd_notify (sensord
# does; streamerd's unit may say Type=exec until streamerd does too).
has sensord Type=notify
has sensord 'WatchdogSec=[0-9]*s'
if grep -q '^Type=notify$' "$units/streamerd.service"; then
	has streamerd 'WatchdogSec=[0-9]*s'
	grep -q NOTIFY_SOCKET "$BUILD/bin/streamerd" ||
		fail "streamerd.service is Type=notify but streamerd never reads NOTIFY_SOCKET: the start would time out"
else
	has streamerd Type=exec
	grep -q '^WatchdogSec=' "$units/streamerd.service" && fail "streamerd.service: a watchdog without Type=notify"
fi
has sensord User=snowsense
has streamerd User=streamerd
has sensord DevicePolicy=closed
has sensord 'DeviceAllow=char-i2c rw'
has sensord RestrictAddressFamilies=AF_UNIX
has streamerd PrivateDevices=yes
has streamerd 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'
has sensord RuntimeDirectoryMode=0755
has sensord StateDirectoryMode=0700
# (/run/snowsense-metrics, both daemons' metrics, is another directory)
grep -Eq '^ReadWritePaths=(.*[ =])?-?/run/snowsense/?( |$)' "$units/streamerd.service" &&
	fail "streamerd.service may write into sensord's socket directory"
has streamerd 'Wants=sensord.service.*'
has streamerd 'After=sensord.service.*'
# JWTs need the right time: after the first NTP sync where the system waits for it
has streamerd 'Wants=.*time-sync.target.*'
has streamerd 'After=.*time-sync.target.*'
if grep -Eq '^(Requires|BindsTo|PartOf|Requisite)=.*sensord' "$units/streamerd.service"; then
	fail "streamerd.service binds its life to sensord"
fi

# sysusers + tmpfiles in a scratch root.
r=$T/sysroot
mkdir -p "$r/etc"
systemd-sysusers --root="$r" "$p/lib/sysusers.d/snowsense.conf" >"$T/sysusers.log" 2>&1 ||
	{ cat "$T/sysusers.log"; fail "systemd-sysusers failed"; }
uid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$r/etc/passwd"; }
gid_of() { awk -F: -v g="$1" '$1 == g { print $3 }' "$r/etc/group"; }
members() { awk -F: -v g="$1" '$1 == g { print $4 }' "$r/etc/group"; }
[ -n "$(uid_of snowsense)" ] || fail "no user snowsense (sensord's)"
[ -n "$(uid_of streamerd)" ] || fail "no user streamerd"
[ "$(awk -F: '$1 == "snowsense" { print $4 }' "$r/etc/passwd")" = "$(gid_of snowsense)" ] ||
	fail "user snowsense's primary group is not snowsense"
members i2c | grep -qw snowsense || fail "user snowsense not in group i2c"
members snowsense | grep -qw streamerd || fail "streamerd not in group snowsense"
cp "$p/lib/tmpfiles.d/snowsense.conf" "$T/tmpfiles.conf"
systemd-tmpfiles --root="$r" --create "$T/tmpfiles.conf" >"$T/tmpfiles.log" 2>&1 ||
	{ cat "$T/tmpfiles.log"; fail "systemd-tmpfiles failed"; }
chk() { # path mode user group
	[ -d "$r$1" ] || fail "tmpfiles did not create $1"
	got=$(stat -c '%a %u %g' "$r$1")
	want="$2 $(uid_of "$3" || true) $(gid_of "$4")"
	[ "$3" = root ] && want="$2 0 $(gid_of "$4" || echo 0)"
	[ "$got" = "$want" ] || fail "$1: mode/uid/gid $got, want $want"
}
chk /run/snowsense 755 snowsense snowsense
# node_exporter (any user) reads the metrics; only the two daemons write them
chk /run/snowsense-metrics 1775 snowsense streamerd
has sensord 'ReadWritePaths=-/run/snowsense-metrics'
has streamerd 'ReadWritePaths=-/run/snowsense-metrics'
for u in sensord streamerd; do
	grep -q "^  \"metrics_file\": \"/run/snowsense-metrics/$u.prom\"" "$T/etc/snowsense/$u.json" ||
		fail "$u.json: metrics_file not in /run/snowsense-metrics"
done
chk /var/lib/snowsense/sensord 700 snowsense snowsense
chk /var/lib/snowsense/streamerd 700 streamerd streamerd

echo "units, sysusers.d and tmpfiles.d OK"
