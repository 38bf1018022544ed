#!/bin/sh
# Every man page renders without a warning: mandoc's linter at warning
# level, groff with all warnings, and man -l as a reader would open it.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed (make deps)"; exit 77; }
fails=0
n=0
for f in "$top"/man/*.[0-9]; do
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
	[ -f "$top/man/$want" ] || { echo "FAIL: man/$want missing"; fails=$((fails + 1)); }
done
[ $fails -eq 0 ] || exit 1
echo "$n man pages lint clean"
