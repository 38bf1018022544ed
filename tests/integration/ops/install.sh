#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make install DESTDIR=… PREFIX=…` and `make uninstall`: the installed tree
# has the programs, supervise, man pages, units with the prefix's paths,
# sysusers.d/tmpfiles.d, the Snowflake files and the example configs; a
# second install keeps a config the admin edited; uninstall removes
# everything but the configuration; the example configs load.
set -u
. "$TOP/tests/lib/harness.sh"
d=$T/root

# The three programs are installed by the top-level rule once they exist;
# before that, check what the scripts/, man/ and config/ fragments install
# on their own (install-extra).
target=install
utarget=uninstall
for p in sensord streamerd sensortap; do
	if [ ! -x "$BIN/$p" ]; then target=install-extra utarget=uninstall-extra; fi
done
echo "make $target"
watch_log "$T/install.log"
make -s -C "$TOP" BUILD="$BUILD" $target DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc \
	>"$T/install.log" 2>&1 || fail "make $target failed"
cat "$T/install.log"

expect="usr/sbin/supervise
usr/share/man/man8/sensord.8 usr/share/man/man8/streamerd.8 usr/share/man/man8/supervise.8
usr/share/man/man1/sensortap.1
usr/lib/systemd/system/sensord.service usr/lib/systemd/system/streamerd.service
usr/lib/sysusers.d/snowsense.conf usr/lib/tmpfiles.d/snowsense.conf
usr/share/snowsense/snowflake/setup.sql usr/share/snowsense/snowflake/keys.sh"
if [ $target = install ]; then
	expect="$expect usr/sbin/sensord usr/sbin/streamerd usr/bin/sensortap"
fi
for c in sensord.json streamerd.json; do
	if [ -f "$TOP/config/$c" ]; then
		expect="$expect etc/snowsense/$c usr/share/snowsense/examples/$c"
	fi
done
for f in $expect; do
	[ -f "$d/$f" ] || fail "missing $f"
done
for f in usr/sbin/supervise usr/share/snowsense/snowflake/keys.sh; do
	[ -x "$d/$f" ] || fail "$f not executable"
done
if [ -f "$d/etc/snowsense/streamerd.json" ]; then
	m=$(stat -c %a "$d/etc/snowsense/streamerd.json")
	[ "$m" = 600 ] || fail "streamerd.json installed with mode $m (it may hold a PAT): want 600"
fi

# Units point at the prefix, not at /usr/local, and at /etc/snowsense.
for u in sensord streamerd; do
	f=$d/usr/lib/systemd/system/$u.service
	grep -q "^ExecStart=/usr/sbin/$u -d -f /etc/snowsense/$u.json" "$f" ||
		fail "$u.service ExecStart: $(grep ^ExecStart "$f")"
	grep -q /usr/local "$f" && fail "$u.service still mentions /usr/local"
done
# Man pages name the prefix's files (generated from man/*.in at install).
for m in man8/sensord.8 man8/streamerd.8 man8/supervise.8 man1/sensortap.1; do
	f=$d/usr/share/man/$m
	grep -n -e /usr/local -e '@[A-Z_]*@' "$f" && fail "$m names /usr/local or an unsubstituted @NAME@"
done
grep -q '^\.Pa /usr/share/snowsense/examples/sensord.json' "$d/usr/share/man/man8/sensord.8" ||
	fail "sensord.8 does not name /usr/share/snowsense/examples/sensord.json"
grep -q '^\.Pa /usr/share/snowsense/snowflake/keys.sh' "$d/usr/share/man/man8/streamerd.8" ||
	fail "streamerd.8 does not name /usr/share/snowsense/snowflake/keys.sh"

# Nothing installed outside the prefix and /etc.
stray=$(cd "$d" && { find . -type f | grep -v -e '^\./usr/' -e '^\./etc/snowsense/' || true; })
[ -z "$stray" ] || fail "files outside /usr and /etc/snowsense: $stray"

# A config the admin changed survives a second install.
if [ -f "$d/etc/snowsense/sensord.json" ]; then
	echo '{ "_comment": "mine" }' >"$d/etc/snowsense/sensord.json"
	make -s -C "$TOP" BUILD="$BUILD" $target DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc \
		>"$T/install2.log" 2>&1 || fail "second install failed: $(cat "$T/install2.log")"
	grep -q mine "$d/etc/snowsense/sensord.json" || fail "second install overwrote sensord.json"
	grep -q "kept existing" "$T/install2.log" || fail "second install did not say it kept the config"
fi

# Uninstall: only the configuration remains.
make -s -C "$TOP" BUILD="$BUILD" $utarget DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc \
	>"$T/uninstall.log" 2>&1 || fail "make $utarget failed: $(cat "$T/uninstall.log")"
left=$(cd "$d" && { find . -type f | grep -v '^\./etc/snowsense/' || true; })
[ -z "$left" ] || fail "left after uninstall: $left"

# The example configs a user starts from load as they are: the daemons'
# -n may only object to what the host lacks (users, the key file), never
# to the files' own keys or values.
if [ -x "$BIN/sensord" ] && [ -f "$TOP/config/sensord.json" ]; then
	out=$("$BIN/sensord" -n -f "$TOP/config/sensord.json" 2>&1)
	case $out in
	"configuration OK" | *'user "snowsense" does not exist'* | *'group "snowsense" does not exist'* | \
		*'user "streamerd" does not exist'*) ;;
	*) fail "config/sensord.json does not load: $out" ;;
	esac
fi
if [ -x "$BIN/streamerd" ] && [ -f "$TOP/config/streamerd.json" ]; then
	out=$("$BIN/streamerd" -n -f "$TOP/config/streamerd.json" 2>&1)
	case $out in
	*"configuration"*"OK"* | *"refusing to run: private key /etc/snowsense/streamerd_key.p8"* | \
		*'"sensord_user": user "snowsense" does not exist'*) ;;
	*) fail "config/streamerd.json does not load: $out" ;;
	esac
fi

echo "install tree OK ($(echo "$expect" | wc -w) files checked, target $target)"
