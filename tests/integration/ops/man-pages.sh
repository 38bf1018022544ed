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

# Every long option a program's --help lists is described in its man page,
# and every configuration key a daemon's --print-config lists (its own key
# table, walked) is named in its page.
for p in sensord:8 streamerd:8 sensortap:1; do
	prog=${p%:*} page=$BUILD/man/$prog.${p#*:}
	opts=$("$BIN/$prog" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
	[ -n "$opts" ] || fail "$prog --help lists no long option"
	for o in $opts; do
		grep -q -- "Fl ${o#-}\b" "$page" ||
			fail "$prog --help lists $o, which $(basename "$page") does not describe"
	done
done
sed "s/\"sensord_user\": \"[^\"]*\"/\"sensord_user\": \"$RUN_USER\"/" \
	"$TOP/config/streamerd.json" >"$T/streamerd.json"
for d in sensord streamerd; do
	conf=$TOP/config/$d.json
	[ $d = streamerd ] && conf=$T/streamerd.json
	"$BIN/$d" -f "$conf" --print-config >"$T/$d.conf" 2>"$T/err" ||
		fail "$d --print-config: $(cat "$T/err")"
	keys=$(python3 -c '
import json, sys
def walk(o):
    for k, v in o.items():
        if k.startswith("_"):
            continue
        yield k
        for e in (v if isinstance(v, list) else [v]):
            if isinstance(e, dict):
                yield from walk(e)
print("\n".join(sorted(set(walk(json.load(open(sys.argv[1])))))))' "$T/$d.conf") ||
		fail "$d --print-config is not JSON"
	for k in $keys; do
		grep -qw -- "$k" "$BUILD/man/$d.8" || fail "$d.8 does not name the configuration key $k"
	done
done
echo "$n man pages lint clean; every --help option and configuration key described"
