#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# installed.sh: the snowsense Debian package as a user gets it. Installs the
# .deb with apt-get, checks the installed layout (files, owners, modes,
# users, directories, units, man pages), configures /etc/snowsense as
# docs/install.md says, runs the INSTALLED sensord under the fake chips and
# the INSTALLED streamerd against the Snowpipe emulator, as their own users,
# the way the units would, and checks that every record lands exactly once;
# then reinstalls, removes and purges, and checks what each step leaves.
#
#   tests/package/installed.sh build-deb/snowsense_VERSION_ARCH.deb
#
# Root only, on a machine or container where snowsense is not installed
# (it refuses otherwise, to leave a real installation alone). The fake
# chips and the emulator come from the build tree ($BUILD, default build/,
# after `make tests`); everything under test comes from the package.
# Without systemd as PID 1 (containers), no unit is started: the daemons run
# under setpriv with the units' users, groups and arguments. At the end the
# package is purged and the users and groups it created are deleted.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$top/build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac

[ $# -eq 1 ] || { echo "usage: tests/package/installed.sh PATH/TO/snowsense_VERSION_ARCH.deb"; exit 2; }
deb=$1
case $deb in /*) ;; *) deb=$(pwd)/$deb ;; esac
[ -f "$deb" ] || { echo "no $deb (make deb)"; exit 2; }
[ "$(id -u)" = 0 ] || { echo "installed.sh installs a package: run it as root"; exit 2; }
if dpkg-query -W -f='${Status}' snowsense 2>/dev/null | grep -qv 'not-installed'; then
	echo "snowsense is installed here (or its configuration is left): installed.sh only runs where it is not"
	exit 2
fi
[ ! -e /etc/snowsense ] || { echo "/etc/snowsense exists: installed.sh only runs where snowsense never was"; exit 2; }
for f in "$BUILD/bin/snowpipe-emu" "$BUILD/lib/fakei2c.so" "$top/tests/fakei2c/with-chips"; do
	[ -e "$f" ] || { echo "$f missing (make tests)"; exit 2; }
done
for t in apt-get setpriv sqlite3 openssl systemd-analyze; do
	command -v $t >/dev/null 2>&1 || { echo "$t not installed (make deps)"; exit 2; }
done

# The test harness: $T (mode 0755: the daemons' users read the fake chips
# and the CA there), fail, the emulator (tests/README.md).
TOP=$top
# shellcheck source=tests/lib/harness.sh
. "$top/tests/lib/harness.sh"
step() { printf '\n== %s\n' "$*"; }

# Users and groups that exist before: the cleanup deletes only the others.
had=""
for n in snowsense streamerd; do getent passwd $n >/dev/null && had="$had u:$n"; done
for n in snowsense streamerd i2c; do getent group $n >/dev/null && had="$had g:$n"; done

export DEBIAN_FRONTEND=noninteractive
apt() { apt-get -q -y -o DPkg::Lock::Timeout=300 "$@"; }
spid="" tpid=""
# At exit, before the harness stops the emulator and removes $T: the
# daemons stopped, the package purged, the users and groups it made deleted.
uninstall() {
	for p in $tpid $spid; do kill_pid "$p"; done
	if dpkg-query -W -f='${Status}' snowsense 2>/dev/null | grep -qv 'not-installed'; then
		SNOWSENSE_PURGE_JOURNAL=yes apt purge snowsense >"$T/cleanup.log" 2>&1 ||
			cat "$T/cleanup.log"
	fi
	rm -rf /var/lib/snowsense
	for n in streamerd snowsense; do
		case " $had " in *" u:$n "*) ;; *) getent passwd $n >/dev/null && userdel $n ;; esac
	done
	for n in streamerd snowsense i2c; do
		case " $had " in *" g:$n "*) ;; *) getent group $n >/dev/null && groupdel $n ;; esac
	done
}
at_exit uninstall

# stat as "mode owner group"
perm() { stat -c '%a %U %G' "$1" 2>/dev/null || echo "missing"; }
want_perm() { # PATH MODE OWNER GROUP
	got=$(perm "$1")
	[ "$got" = "$2 $3 $4" ] || fail "$1: $got, want $2 $3 $4"
}
elapsed() { echo $(($(date +%s) - $1)); }

step "install $(basename "$deb")"
t0=$(date +%s)
apt install --no-install-recommends "$deb" >"$T/install.log" 2>&1 ||
	fail "apt-get install failed: $(tail -n 20 "$T/install.log")"
grep -E '^(Setting up|Creating|Adding|snowsense)' "$T/install.log"
echo "installed in $(elapsed "$t0") s"

step "layout"
for f in /usr/sbin/sensord /usr/sbin/streamerd /usr/sbin/supervise /usr/bin/sensortap \
	/usr/share/snowsense/snowflake/keys.sh; do
	want_perm "$f" 755 root root
done
for f in /usr/lib/systemd/system/sensord.service /usr/lib/systemd/system/streamerd.service \
	/usr/lib/sysusers.d/snowsense.conf /usr/lib/tmpfiles.d/snowsense.conf \
	/usr/share/snowsense/snowflake/setup.sql /usr/share/doc/snowsense/copyright; do
	want_perm "$f" 644 root root
done
# (Slim container images tell dpkg not to unpack man pages at all.)
if grep -Eqs '^path-exclude[= ]+/usr/share/man' /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/*; then
	echo "man pages not checked: dpkg here excludes /usr/share/man"
else
	for m in man8/sensord.8 man8/streamerd.8 man8/supervise.8 man1/sensortap.1; do
		f=/usr/share/man/$m.gz
		[ -f "$f" ] || fail "no $f"
		zcat "$f" | grep -n -e /usr/local -e '@[A-Z_]*@' && fail "$m names /usr/local or an unsubstituted @NAME@"
	done
	zcat /usr/share/man/man8/streamerd.8.gz | grep -q '^\.Pa /usr/share/snowsense/snowflake/setup.sql' ||
		fail "streamerd.8 does not point at /usr/share/snowsense/snowflake/setup.sql"
	[ "$(man -w sensord 2>/dev/null)" = /usr/share/man/man8/sensord.8.gz ] ||
		fail "man -w sensord: $(man -w sensord 2>&1)"
fi
conffiles=$(dpkg-query -W -f='${Conffiles}' snowsense | awk '{ print $1 }' | sort | tr '\n' ' ')
[ "$conffiles" = "/etc/snowsense/sensord.json /etc/snowsense/streamerd.json " ] ||
	fail "conffiles: '$conffiles'"
want_perm /etc/snowsense 755 root root
want_perm /etc/snowsense/sensord.json 644 root root
want_perm /etc/snowsense/streamerd.json 600 streamerd streamerd
dpkg-statoverride --list /etc/snowsense/streamerd.json | grep -q '^streamerd streamerd 600 ' ||
	fail "no statoverride streamerd streamerd 0600 for streamerd.json"

# Users: system accounts without a login, each in only the groups it needs.
for u in snowsense streamerd; do
	getent passwd $u >/dev/null || fail "no user $u"
	uid=$(id -u $u)
	[ "$uid" -lt 1000 ] || fail "user $u has uid $uid, not a system uid"
	[ "$(id -gn $u)" = $u ] || fail "user $u's primary group is $(id -gn $u)"
	case $(getent passwd $u | cut -d: -f7) in */nologin | */false) ;; *) fail "user $u has a login shell" ;; esac
done
[ "$(getent passwd snowsense | cut -d: -f6)" = /var/lib/snowsense/sensord ] || fail "snowsense's home"
[ "$(id -Gn snowsense | tr ' ' '\n' | sort | tr '\n' ' ')" = "i2c snowsense " ] ||
	fail "snowsense's groups: $(id -Gn snowsense), want snowsense i2c"
[ "$(id -Gn streamerd | tr ' ' '\n' | sort | tr '\n' ' ')" = "snowsense streamerd " ] ||
	fail "streamerd's groups: $(id -Gn streamerd), want streamerd snowsense"

# Directories (tmpfiles.d, applied by the postinst).
want_perm /run/snowsense 755 snowsense snowsense
want_perm /run/snowsense-metrics 1775 snowsense streamerd
want_perm /var/lib/snowsense 755 root root
want_perm /var/lib/snowsense/sensord 700 snowsense snowsense
want_perm /var/lib/snowsense/streamerd 700 streamerd streamerd
want_perm /var/log/snowsense 750 root snowsense

# Units: verified as installed, not enabled, stopped by the prerm on remove.
for u in sensord streamerd; do
	if ! systemd-analyze verify --man=no /usr/lib/systemd/system/$u.service >"$T/$u.verify" 2>&1 ||
		[ -s "$T/$u.verify" ]; then
		fail "systemd-analyze verify $u.service: $(cat "$T/$u.verify")"
	fi
	grep -q "^ExecStart=/usr/sbin/$u -d -f /etc/snowsense/$u.json\$" /usr/lib/systemd/system/$u.service ||
		fail "$u.service ExecStart: $(grep ^ExecStart /usr/lib/systemd/system/$u.service)"
	ls /etc/systemd/system/*.wants/$u.service >/dev/null 2>&1 && fail "$u.service is enabled on install"
	grep -q "deb-systemd-invoke stop.*'$u.service'" /var/lib/dpkg/info/snowsense.prerm ||
		fail "the prerm does not stop $u.service on remove"
done
echo "layout checked"

step "configure as docs/install.md says, against the emulator"
emu_pki
/usr/share/snowsense/snowflake/keys.sh -o /etc/snowsense -O streamerd:streamerd -u STREAMER \
	>"$T/keys.log" 2>&1 || fail "installed keys.sh failed: $(cat "$T/keys.log")"
want_perm /etc/snowsense/streamerd_key.p8 600 streamerd streamerd
cp /etc/snowsense/streamerd_key.pub "$T/streamer.pub" # the emulator's user STREAMER
start_emu --commit-lag-ms 200
# Edits in place (the owner and mode stay), as an editor would.
edit() { # FILE SED-EXPRESSIONS...
	f=$1
	shift
	sed "$@" "$f" >"$T/edit" && cat "$T/edit" >"$f"
}
edit /etc/snowsense/streamerd.json -e 's/"account": "MYORG-MYACCOUNT"/"account": "EMUACCT"/' \
	-e 's/"user": "SNOWSENSE_INGEST"/"user": "STREAMER"/' -e 's/"SNOWSENSE_INGEST_ROLE"/"INGEST_ROLE"/' \
	-e 's/"clock_sync_wait_s": [0-9]*/"clock_sync_wait_s": 0/' \
	-e 's/"unsynced_hold_s": [0-9]*/"unsynced_hold_s": 0/' \
	-e "s#^  \"socket\":#  \"account_url\": \"$URL\",\\n  \"ca_file\": \"$EMU_CA\",\\n&#"
want_perm /etc/snowsense/streamerd.json 600 streamerd streamerd
out=$(/usr/sbin/sensord -n 2>&1) || fail "sensord -n: $out"
[ "$out" = "configuration OK" ] || fail "sensord -n: $out"
out=$(setpriv --reuid=streamerd --regid=streamerd --init-groups --reset-env -- /usr/sbin/streamerd -n 2>&1) ||
	fail "streamerd -n as streamerd: $out"
echo "streamerd -n: $out"

step "the installed daemons, as the units run them"
cat >"$T/chips.json" <<'EOF'
{
  "scd4x": { "co2": 650, "t": 21.5, "rh": 45.0 },
  "sgp30": { "eco2": 420, "tvoc": 8 },
  "icp10125": { "p": 100500.0, "t": 21.0 }
}
EOF
mkdir "$T/chips"
cp "$top/tests/fakei2c/with-chips" "$BUILD/lib/fakei2c.so" "$T/chips.json" "$T/chips/"
chmod 0755 "$T/chips" "$T/chips/with-chips"
chmod 0644 "$T/chips/fakei2c.so" "$T/chips/chips.json"
# The installed sensord as sensord.service runs it: User=snowsense
# Group=snowsense SupplementaryGroups=i2c UMask=0027.
watch_log "$T/sensord.log"
run_sensord() {
	umask 0027
	setpriv --reuid=snowsense --regid=snowsense --init-groups --reset-env -- \
		env FAKEI2C_LIB="$T/chips/fakei2c.so" \
		"$T/chips/with-chips" "$T/chips/chips.json" -- \
		/usr/sbin/sensord -d -f /etc/snowsense/sensord.json --interval 1 >>"$T/sensord.log" 2>&1 &
	spid=$!
	track $spid sensord
	umask 0022
}
# The installed streamerd as streamerd.service runs it: User=streamerd
# Group=streamerd SupplementaryGroups=snowsense UMask=0077, HOME from its
# passwd entry.
watch_log "$T/streamerd.log"
run_streamerd() {
	umask 0077
	setpriv --reuid=streamerd --regid=streamerd --init-groups --reset-env -- \
		/usr/sbin/streamerd -d -f /etc/snowsense/streamerd.json >>"$T/streamerd.log" 2>&1 &
	tpid=$!
	track $tpid streamerd
	umask 0022
}
last_seq() {
	/usr/bin/sensortap --status 2>/dev/null | tr ',{}' '\n' | sed -n 's/^ *"last_seq": *\([0-9]*\).*/\1/p' | head -n 1
}
seqs_at_least() { [ "$(table_seqs)" -ge "$1" ]; }
t0=$(date +%s)
run_sensord
wait_for 10 "sensord's socket" test -S /run/snowsense/sensord.sock
want_perm /run/snowsense/sensord.sock 660 snowsense snowsense
run_streamerd
poll 30 seqs_at_least 3 || fail "no rows committed within 30 s"
echo "rows after start: $(table_rows)"
# streamerd stops and comes back: sensord's journal holds what it missed.
stop_pid "$tpid" streamerd 10 any
tpid=""
sleep 3
run_streamerd
n=$(table_seqs)
poll 30 seqs_at_least $((n + 3)) || fail "no new rows after restarting streamerd"
stop_pid "$spid" sensord 10 any
spid=""
# readable by node_exporter (any user), whatever the daemons' umask
want_perm /run/snowsense-metrics/sensord.prom 644 snowsense snowsense
want_perm /run/snowsense-metrics/streamerd.prom 644 streamerd streamerd

# What the journal holds (verified by sensord, as man sensord says) is
# exactly what the table holds once streamerd drained it.
out=$(setpriv --reuid=snowsense --regid=snowsense --init-groups --reset-env -- \
	/usr/sbin/sensord --verify-journal 2>&1) || fail "sensord --verify-journal as snowsense: $out"
printf '%s\n' "$out" | tail -n 2
last=$(printf '%s\n' "$out" | sed -n 's/^journal [0-9a-f]*: .* seq 1\.\.\([0-9]*\), clean$/\1/p')
run_sensord # streamerd drains from the journal; new records come too
drained() {
	[ -n "$last" ] && [ "$(sqlite3 "$EMU_DB" "select count(distinct json_extract(RAW_DATA, '\$.seq'))
		from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.seq') <= $last")" -ge "$last" ]
}
poll 30 drained || true # the comparison below says what is missing
stop_pid "$tpid" streamerd 10 any
tpid=""
stop_pid "$spid" sensord 10 any
spid=""
q() { sqlite3 "$EMU_DB" "$1"; }
if [ -z "$last" ] || [ "$last" -lt 6 ]; then
	fail "sensord --verify-journal: no clean journal from seq 1 (or too short: '$last')"
else
	total=$(q "select count(*) from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.seq') <= $last")
	distinct=$(q "select count(distinct json_extract(RAW_DATA, '\$.seq')) from THERMAL_SENSOR_DATA
		where json_extract(RAW_DATA, '\$.seq') <= $last")
	range=$(q "select min(json_extract(RAW_DATA, '\$.seq')) || '..' || max(json_extract(RAW_DATA, '\$.seq'))
		from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.seq') <= $last")
	echo "journal seqs 1..$last; table: $total rows, $distinct distinct seqs, range $range"
	[ "$total:$distinct:$range" = "$last:$last:1..$last" ] ||
		fail "not exactly once: journal 1..$last, table $total rows, $distinct distinct, range $range"
fi
# the packaged sensord.json names no device: the host name is used
other=$(q "select count(*) from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.device') is not '$(hostname)'")
[ "$other" = 0 ] || fail "$other rows do not carry the host name $(hostname) as device (the packaged sensord.json names none)"
echo "pipeline ran $(elapsed "$t0") s"
stop_emu

step "reinstall: the edited configuration and its owner stay"
apt install --reinstall --no-install-recommends "$deb" >"$T/reinstall.log" 2>&1 ||
	fail "reinstall failed: $(tail -n 20 "$T/reinstall.log")"
grep -q EMUACCT /etc/snowsense/streamerd.json || fail "reinstall replaced the edited streamerd.json"
want_perm /etc/snowsense/streamerd.json 600 streamerd streamerd
want_perm /etc/snowsense/sensord.json 644 root root

step "apt-get remove: programs go, configuration, journal and users stay"
apt remove snowsense >"$T/remove.log" 2>&1 || fail "remove failed: $(tail -n 20 "$T/remove.log")"
for f in /usr/sbin/sensord /usr/sbin/streamerd /usr/sbin/supervise /usr/bin/sensortap \
	/usr/lib/systemd/system/sensord.service /usr/lib/sysusers.d/snowsense.conf; do
	[ ! -e "$f" ] || fail "$f left after remove"
done
for f in /etc/snowsense/sensord.json /etc/snowsense/streamerd.json /etc/snowsense/streamerd_key.p8; do
	[ -f "$f" ] || fail "$f gone after remove"
done
want_perm /etc/snowsense/streamerd.json 600 streamerd streamerd
ls /var/lib/snowsense/sensord/* >/dev/null 2>&1 || fail "the journal is gone after remove"
getent passwd snowsense >/dev/null || fail "user snowsense gone after remove"

step "apt-get purge: configuration and logs go, the journal stays"
apt purge snowsense >"$T/purge.log" 2>&1 || fail "purge failed: $(tail -n 20 "$T/purge.log")"
grep -i 'journal\|warning' "$T/purge.log"
[ ! -e /etc/snowsense ] || fail "/etc/snowsense left after purge: $(ls -A /etc/snowsense)"
dpkg-statoverride --list /etc/snowsense/streamerd.json >/dev/null && fail "statoverride left after purge"
for d in /var/log/snowsense /var/lib/snowsense/streamerd /run/snowsense /run/snowsense-metrics; do
	[ ! -e "$d" ] || fail "$d left after purge"
done
journal=$(find /var/lib/snowsense/sensord -name 'seg-*.jnl' 2>/dev/null | wc -l)
[ "$journal" -gt 0 ] || fail "purge removed the journal (it keeps it unless SNOWSENSE_PURGE_JOURNAL=yes)"
echo "left after purge: $(find /var/lib/snowsense | wc -l) paths under /var/lib/snowsense; users snowsense, streamerd"
dpkg-query -W -f='${Status}' snowsense 2>/dev/null | grep -q 'not-installed' ||
	[ -z "$(dpkg-query -W -f='${Status}' snowsense 2>/dev/null)" ] || fail "dpkg still knows snowsense after purge"

step "install again, purge with SNOWSENSE_PURGE_JOURNAL=yes: nothing left"
apt install --no-install-recommends "$deb" >"$T/install2.log" 2>&1 ||
	fail "second install failed: $(tail -n 20 "$T/install2.log")"
want_perm /var/lib/snowsense/sensord 700 snowsense snowsense
SNOWSENSE_PURGE_JOURNAL=yes apt purge snowsense >"$T/purge2.log" 2>&1 ||
	fail "second purge failed: $(tail -n 20 "$T/purge2.log")"
[ ! -e /var/lib/snowsense ] || fail "/var/lib/snowsense left after purge with SNOWSENSE_PURGE_JOURNAL=yes"

echo "installed package OK ($(basename "$deb")): layout, users, units, pipeline exactly once over $last records, reinstall, remove, purge"
