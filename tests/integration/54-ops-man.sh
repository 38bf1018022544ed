#!/bin/sh
# Every man page (as `make` generates it from man/*.in) renders without a
# warning: mandoc's linter at warning level, groff with all warnings, and
# man -l as a reader would open it. Quotes nest properly, the users in the
# examples are the users the package creates, and the file names are the
# ones the configs use.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$top/build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed (make deps)"; exit 77; }
[ -f "$BUILD/man/sensord.8" ] || { echo "man pages not generated yet (make)"; exit 77; }
fails=0
n=0
for f in "$BUILD"/man/*.[0-9]; do
	n=$((n + 1))
	out=$(mandoc -T lint -W warning "$f" 2>&1) || { echo "$out"; echo "FAIL: mandoc lint $f"; fails=$((fails + 1)); }
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -mandoc -ww -z "$f" 2>&1)
		[ -z "$out" ] || { echo "$out"; echo "FAIL: groff warnings in $f"; fails=$((fails + 1)); }
	fi
	if command -v man >/dev/null 2>&1; then
		out=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "$out"; echo "FAIL: man -l warnings in $f"; fails=$((fails + 1)); }
		# and it says something: the NAME line made it through
		MANWIDTH=80 man -l "$f" 2>/dev/null | grep -q "^NAME" || { echo "FAIL: $f renders no NAME"; fails=$((fails + 1)); }
	fi
done
for want in sensord.8 streamerd.8 supervise.8 sensortap.1; do
	[ -f "$BUILD/man/$want" ] || { echo "FAIL: $BUILD/man/$want missing"; fails=$((fails + 1)); }
done

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
for f in "$BUILD"/man/*.[0-9]; do
	# Single quotes as rendered: an opening one inside another, or one
	# left open at the end, is a .Ql/.Pq that swallowed its neighbours.
	# (-T ascii renders them as ` and '.)
	bad=$(mandoc -T ascii "$f" 2>/dev/null | sed 's/.\x08//g' | awk '
		{ line = line $0 " " }
		END {
			d = 0; n = split(line, c, "")
			for (i = 1; i <= n; i++) {
				if (c[i] == "`") { if (d) { print "nested at: " substr(line, i - 30, 60); exit } d = 1 }
				else if (c[i] == "\047") d = 0
			}
			if (d) print "unclosed"
		}')
	[ -z "$bad" ] || fail "$(basename "$f"): broken quotes: $bad"
	# sudo -u NAME: NAME is a user the sysusers.d file creates.
	users=$(sed -n 's/.*sudo -u \([a-z_]*\) .*/\1/p' "$f")
	for u in $users; do
		grep -q "^u $u " "$top/config/sysusers.d/snowsense.conf" ||
			fail "$(basename "$f") runs a command as user $u, which snowsense does not create"
	done
	grep -n '@[A-Z_]*@' "$f" && fail "$(basename "$f"): unsubstituted @NAME@"
done
key=$(sed -n 's/.*"private_key_file": *"\([^"]*\)".*/\1/p' "$top/config/streamerd.json")
grep -q "^\.It Pa $key\$" "$BUILD/man/streamerd.8" || fail "streamerd.8 FILES does not name the key file of config/streamerd.json ($key)"
[ $fails -eq 0 ] || exit 1
echo "$n man pages lint clean"
