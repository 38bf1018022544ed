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

# shellcheck source=scripts/ops-sandbox.sh
. "$top/scripts/ops-sandbox.sh"

tmp=$(mktemp -d)
chmod 0755 "$tmp" # the daemons' users read the fake chips and the CA here
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
step() { printf '\n== %s\n' "$*"; }

# Users and groups that exist before: the cleanup deletes only the others.
had=""
for n in snowsense streamerd; do getent passwd $n >/dev/null && had="$had u:$n"; done
for n in snowsense streamerd i2c; do getent group $n >/dev/null && had="$had g:$n"; done

export DEBIAN_FRONTEND=noninteractive
apt() { apt-get -q -y -o DPkg::Lock::Timeout=300 "$@"; }
spid="" tpid=""
cleanup() {
	for p in $tpid $spid; do kill -TERM "$p" 2>/dev/null; done
	for p in $tpid $spid; do wait "$p" 2>/dev/null; done
	sb_stop
	if [ $fails -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
		for l in "$tmp"/*.log "$tmp"/sb/log/*.log; do
			[ -f "$l" ] && { echo "--- $l"; tail -n 30 "$l"; }
		done
	fi
	if dpkg-query -W -f='${Status}' snowsense 2>/dev/null | grep -qv 'not-installed'; then
		SNOWSENSE_PURGE_JOURNAL=yes apt purge snowsense >"$tmp/cleanup.log" 2>&1 ||
			cat "$tmp/cleanup.log"
	fi
	rm -rf /var/lib/snowsense
	for n in streamerd snowsense; do
		case " $had " in *" u:$n "*) ;; *) getent passwd $n >/dev/null && userdel $n ;; esac
	done
	for n in streamerd snowsense i2c; do
		case " $had " in *" g:$n "*) ;; *) getent group $n >/dev/null && groupdel $n ;; esac
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# stat as "mode owner group"
perm() { stat -c '%a %U %G' "$1" 2>/dev/null || echo "missing"; }
want_perm() { # PATH MODE OWNER GROUP
	got=$(perm "$1")
	[ "$got" = "$2 $3 $4" ] || fail "$1: $got, want $2 $3 $4"
}
elapsed() { echo $(($(date +%s) - $1)); }

step "install $(basename "$deb")"
t0=$(date +%s)
apt install --no-install-recommends "$deb" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "apt-get install failed"; exit 1; }
grep -E '^(Setting up|Creating|Adding|snowsense)' "$tmp/install.log"
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
		[ -f "$f" ] || { fail "no $f"; continue; }
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
	getent passwd $u >/dev/null || { fail "no user $u"; continue; }
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
want_perm /run/snowsense 1770 snowsense snowsense
want_perm /var/lib/snowsense 755 root root
want_perm /var/lib/snowsense/sensord 750 snowsense snowsense
want_perm /var/lib/snowsense/streamerd 700 streamerd streamerd
want_perm /var/log/snowsense 750 root snowsense

# Units: verified as installed, not enabled, stopped by the prerm on remove.
for u in sensord streamerd; do
	if ! systemd-analyze verify --man=no /usr/lib/systemd/system/$u.service >"$tmp/$u.verify" 2>&1 ||
		[ -s "$tmp/$u.verify" ]; then
		fail "systemd-analyze verify $u.service: $(cat "$tmp/$u.verify")"
	fi
	grep -q "^ExecStart=/usr/sbin/$u -d -f /etc/snowsense/$u.json\$" /usr/lib/systemd/system/$u.service ||
		fail "$u.service ExecStart: $(grep ^ExecStart /usr/lib/systemd/system/$u.service)"
	ls /etc/systemd/system/*.wants/$u.service >/dev/null 2>&1 && fail "$u.service is enabled on install"
	grep -q "deb-systemd-invoke stop.*'$u.service'" /var/lib/dpkg/info/snowsense.prerm ||
		fail "the prerm does not stop $u.service on remove"
done
echo "layout checked"

step "configure as docs/install.md says, against the emulator"
sb_init "$tmp/sb"
sb_pki
/usr/share/snowsense/snowflake/keys.sh -o /etc/snowsense -O streamerd:streamerd -u STREAMER \
	>"$tmp/keys.log" 2>&1 || { cat "$tmp/keys.log"; fail "installed keys.sh failed"; exit 1; }
want_perm /etc/snowsense/streamerd_key.p8 600 streamerd streamerd
cp /etc/snowsense/streamerd_key.pub "$sb/pki/streamer.pub" # the emulator's user STREAMER
sb_start_emu --commit-lag-ms 200
# Edits in place (the owner and mode stay), as an editor would.
edit() { # FILE SED-EXPRESSIONS...
	f=$1
	shift
	sed "$@" "$f" >"$tmp/edit" && cat "$tmp/edit" >"$f"
}
edit /etc/snowsense/streamerd.json -e 's/"account": "MYORG-MYACCOUNT"/"account": "EMUACCT"/' \
	-e 's/"user": "SNOWSENSE_INGEST"/"user": "STREAMER"/' -e 's/"SNOWSENSE_INGEST_ROLE"/"INGEST_ROLE"/' \
	-e "s#^  \"socket\":#  \"account_url\": \"$sb_url\",\\n  \"ca_file\": \"$sb/pki/ca.crt\",\\n&#"
sed -i "s/\"allowed_uids\": \[\]/\"allowed_uids\": [$(id -u streamerd)]/" /etc/snowsense/sensord.json
want_perm /etc/snowsense/streamerd.json 600 streamerd streamerd
out=$(/usr/sbin/sensord -n 2>&1) || fail "sensord -n: $out"
[ "$out" = "configuration OK" ] || fail "sensord -n: $out"
out=$(setpriv --reuid=streamerd --regid=streamerd --init-groups --reset-env -- /usr/sbin/streamerd -n 2>&1) ||
	fail "streamerd -n as streamerd: $out"
echo "streamerd -n: $out"

step "the installed daemons, as the units run them"
cat >"$tmp/chips.json" <<'EOF'
{
  "scd4x": { "co2": 650, "t": 21.5, "rh": 45.0 },
  "sgp30": { "eco2": 420, "tvoc": 8 },
  "icp10125": { "p": 100500.0, "t": 21.0 }
}
EOF
mkdir "$tmp/chips"
cp "$top/tests/fakei2c/with-chips" "$BUILD/lib/fakei2c.so" "$tmp/chips.json" "$tmp/chips/"
chmod 0755 "$tmp/chips" "$tmp/chips/with-chips"
chmod 0644 "$tmp/chips/fakei2c.so" "$tmp/chips/chips.json"
# sensord.service: User=snowsense Group=snowsense SupplementaryGroups=i2c
# UMask=0027.
start_sensord() {
	umask 0027
	setpriv --reuid=snowsense --regid=snowsense --init-groups --reset-env -- \
		env FAKEI2C_LIB="$tmp/chips/fakei2c.so" "$tmp/chips/with-chips" "$tmp/chips/chips.json" -- \
		/usr/sbin/sensord -d -f /etc/snowsense/sensord.json --interval 1 >>"$tmp/sensord.log" 2>&1 &
	spid=$!
	umask 0022
}
# streamerd.service: User=streamerd Group=streamerd SupplementaryGroups=snowsense
# UMask=0077, HOME from its passwd entry.
start_streamerd() {
	umask 0077
	setpriv --reuid=streamerd --regid=streamerd --init-groups --reset-env -- \
		/usr/sbin/streamerd -d -f /etc/snowsense/streamerd.json >>"$tmp/streamerd.log" 2>&1 &
	tpid=$!
	umask 0022
}
stop() { # PID
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$1" 2>/dev/null && { fail "pid $1 ignored SIGTERM for 10 s"; kill -KILL "$1"; }
	wait "$1" 2>/dev/null
}
last_seq() {
	/usr/bin/sensortap --status 2>/dev/null | tr ',{}' '\n' | sed -n 's/^ *"last_seq": *\([0-9]*\).*/\1/p' | head -n 1
}
wait_rows() { # N TIMEOUT_S
	i=0
	while [ "$(sb_distinct_seqs)" -lt "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(sb_distinct_seqs)" -ge "$1" ]
}
t0=$(date +%s)
start_sensord
i=0
until [ -S /run/snowsense/sensord.sock ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S /run/snowsense/sensord.sock ] || { fail "sensord did not create its socket in 10 s"; exit 1; }
want_perm /run/snowsense/sensord.sock 660 snowsense snowsense
start_streamerd
wait_rows 3 30 || fail "no rows committed within 30 s"
echo "rows after start: $(sb_rows)"
# streamerd stops and comes back: sensord's journal holds what it missed.
stop "$tpid"
tpid=""
sleep 3
start_streamerd
n=$(sb_distinct_seqs)
wait_rows $((n + 3)) 30 || fail "no new rows after restarting streamerd"
stop "$spid"
spid=""
ls /run/snowsense/sensord.prom /run/snowsense/streamerd.prom >/dev/null || fail "metrics files missing"

# What the journal holds (verified by sensord, as man sensord says) is
# exactly what the table holds once streamerd drained it.
out=$(setpriv --reuid=snowsense --regid=snowsense --init-groups --reset-env -- \
	/usr/sbin/sensord --verify-journal 2>&1) || fail "sensord --verify-journal as snowsense: $out"
printf '%s\n' "$out" | tail -n 2
last=$(printf '%s\n' "$out" | sed -n 's/^journal [0-9a-f]*: .* seq 1\.\.\([0-9]*\), clean$/\1/p')
start_sensord # streamerd drains from the journal; new records come too
i=0
until [ -n "$last" ] && [ "$(sqlite3 "$sb_emu_db" "select count(distinct json_extract(RAW_DATA, '\$.seq'))
	from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.seq') <= $last")" -ge "$last" ] ||
	[ $i -ge 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
stop "$tpid"
tpid=""
stop "$spid"
spid=""
q() { sqlite3 "$sb_emu_db" "$1"; }
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
other=$(q "select count(*) from THERMAL_SENSOR_DATA where json_extract(RAW_DATA, '\$.device') is not 'greenhouse-pi'")
[ "$other" = 0 ] || fail "$other rows do not carry the device of /etc/snowsense/sensord.json (greenhouse-pi)"
echo "pipeline ran $(elapsed "$t0") s"
sb_stop

step "reinstall: the edited configuration and its owner stay"
apt install --reinstall --no-install-recommends "$deb" >"$tmp/reinstall.log" 2>&1 ||
	{ cat "$tmp/reinstall.log"; fail "reinstall failed"; }
grep -q EMUACCT /etc/snowsense/streamerd.json || fail "reinstall replaced the edited streamerd.json"
want_perm /etc/snowsense/streamerd.json 600 streamerd streamerd
want_perm /etc/snowsense/sensord.json 644 root root

step "apt-get remove: programs go, configuration, journal and users stay"
apt remove snowsense >"$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log"; fail "remove failed"; }
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
apt purge snowsense >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "purge failed"; }
grep -i 'journal\|warning' "$tmp/purge.log"
[ ! -e /etc/snowsense ] || fail "/etc/snowsense left after purge: $(ls -A /etc/snowsense)"
dpkg-statoverride --list /etc/snowsense/streamerd.json >/dev/null && fail "statoverride left after purge"
for d in /var/log/snowsense /var/lib/snowsense/streamerd /run/snowsense; do
	[ ! -e "$d" ] || fail "$d left after purge"
done
journal=$(find /var/lib/snowsense/sensord -name 'seg-*.jnl' 2>/dev/null | wc -l)
[ "$journal" -gt 0 ] || fail "purge removed the journal (it keeps it unless SNOWSENSE_PURGE_JOURNAL=yes)"
echo "left after purge: $(find /var/lib/snowsense | wc -l) paths under /var/lib/snowsense; users snowsense, streamerd"
dpkg-query -W -f='${Status}' snowsense 2>/dev/null | grep -q 'not-installed' ||
	[ -z "$(dpkg-query -W -f='${Status}' snowsense 2>/dev/null)" ] || fail "dpkg still knows snowsense after purge"

step "install again, purge with SNOWSENSE_PURGE_JOURNAL=yes: nothing left"
apt install --no-install-recommends "$deb" >"$tmp/install2.log" 2>&1 ||
	{ cat "$tmp/install2.log"; fail "second install failed"; }
want_perm /var/lib/snowsense/sensord 750 snowsense snowsense
SNOWSENSE_PURGE_JOURNAL=yes apt purge snowsense >"$tmp/purge2.log" 2>&1 ||
	{ cat "$tmp/purge2.log"; fail "second purge failed"; }
[ ! -e /var/lib/snowsense ] || fail "/var/lib/snowsense left after purge with SNOWSENSE_PURGE_JOURNAL=yes"

[ $fails -eq 0 ] || exit 1
echo "installed package OK ($(basename "$deb")): layout, users, units, pipeline exactly once over $last records, reinstall, remove, purge"
