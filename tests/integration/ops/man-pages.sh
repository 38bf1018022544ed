#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every man page (as `make` generates it from man/*.in) renders without a
# warning: mandoc's linter at warning level, groff with all warnings, and
# man -l as a reader would open it. Quotes nest properly, the users in the
# examples are the users the package creates, and the file names are the
# ones the configs use. The pages show sensortap's output as it prints it,
# "°C" and sparkline blocks included, so they are rendered as on a UTF-8
# terminal (C.UTF-8, always there on Debian), not in the 7-bit POSIX locale.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd mandoc
need_built "$BUILD/man/sensord.8"
n=0
for f in "$BUILD"/man/*.[0-9]; do
	n=$((n + 1))
	out=$(mandoc -T lint -W warning "$f" 2>&1) || fail "mandoc lint $f: $out"
	if command -v groff >/dev/null 2>&1; then
		out=$(groff -mandoc -Tutf8 -ww -z "$f" 2>&1)
		[ -z "$out" ] || fail "groff warnings in $f: $out"
	fi
	if command -v man >/dev/null 2>&1; then
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
		[ -z "$out" ] || fail "man -l warnings in $f: $out"
		# and it says something: the NAME line made it through
		MANWIDTH=80 man -l "$f" 2>/dev/null | grep -q "^NAME" || fail "$f renders no NAME"
	fi
done
for want in sensord.8 streamerd.8 supervise.8 sensortap.1; do
	[ -f "$BUILD/man/$want" ] || fail "$BUILD/man/$want missing"
done

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
		grep -q "^u $u " "$TOP/config/sysusers.d/snowsense.conf" ||
			fail "$(basename "$f") runs a command as user $u, which snowsense does not create"
	done
	grep -n '@[A-Z_]*@' "$f" && fail "$(basename "$f"): unsubstituted @NAME@"
done
key=$(sed -n 's/.*"private_key_file": *"\([^"]*\)".*/\1/p' "$TOP/config/streamerd.json")
grep -q "^\.It Pa $key\$" "$BUILD/man/streamerd.8" || fail "streamerd.8 FILES does not name the key file of config/streamerd.json ($key)"
echo "$n man pages lint clean"
