#!/bin/sh
# `make install DESTDIR=… PREFIX=…` and `make uninstall`: the installed tree
# has the programs, supervise, man pages, units with the prefix's paths,
# sysusers.d/tmpfiles.d, the Snowflake files and the example configs; a
# second install keeps a config the admin edited; uninstall removes
# everything but the configuration; the example configs load.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=$tmp/root
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# The three programs are installed by the top-level rule once they exist;
# before that, check what the scripts/, man/ and config/ fragments install
# on their own (install-extra).
target=install
utarget=uninstall
for p in sensord streamerd sensortap; do
	if [ ! -x "${BUILD:-$top/build}/bin/$p" ]; then target=install-extra utarget=uninstall-extra; fi
done
echo "make $target"
make -s -C "$top" ${BUILD:+BUILD="$BUILD"} $target DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc \
	>"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; echo "make $target failed"; exit 1; }
cat "$tmp/install.log"

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
	if [ -f "$top/config/$c" ]; then
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
	make -s -C "$top" ${BUILD:+BUILD="$BUILD"} $target DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc \
		>"$tmp/install2.log" 2>&1 || fail "second install failed: $(cat "$tmp/install2.log")"
	grep -q mine "$d/etc/snowsense/sensord.json" || fail "second install overwrote sensord.json"
	grep -q "kept existing" "$tmp/install2.log" || fail "second install did not say it kept the config"
fi

# Uninstall: only the configuration remains.
make -s -C "$top" ${BUILD:+BUILD="$BUILD"} $utarget DESTDIR="$d" PREFIX=/usr SYSCONFDIR=/etc \
	>"$tmp/uninstall.log" 2>&1 || fail "make $utarget failed: $(cat "$tmp/uninstall.log")"
left=$(cd "$d" && { find . -type f | grep -v '^\./etc/snowsense/' || true; })
[ -z "$left" ] || fail "left after uninstall: $left"

# The example configs a user starts from load as they are: the daemons'
# -n may only object to what the host lacks (users, the key file), never
# to the files' own keys or values.
B=${BUILD:-$top/build}
if [ -x "$B/bin/sensord" ] && [ -f "$top/config/sensord.json" ]; then
	out=$("$B/bin/sensord" -n -f "$top/config/sensord.json" 2>&1)
	case $out in
	"configuration OK" | *'user "snowsense" does not exist'* | *'group "snowsense" does not exist'*) ;;
	*) fail "config/sensord.json does not load: $out" ;;
	esac
fi
if [ -x "$B/bin/streamerd" ] && [ -f "$top/config/streamerd.json" ]; then
	out=$("$B/bin/streamerd" -n -f "$top/config/streamerd.json" 2>&1)
	case $out in
	*"configuration"*"OK"* | *"refusing to run: private key /etc/snowsense/streamerd_key.p8"*) ;;
	*) fail "config/streamerd.json does not load: $out" ;;
	esac
fi

[ $fails -eq 0 ] || exit 1
echo "install tree OK ($(echo "$expect" | wc -w) files checked, target $target)"
