#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Production sources carry no banned calls, no simulation, no test hooks,
# and no file of the repository refers to a document outside it
# (scripts/checksrc). Then checksrc itself: in a small tree of its own, a
# planted reference of each kind fails it and is named with its file and
# line, in a git checkout (tracked files only) and in a plain directory.
set -u
. "$TOP/tests/lib/harness.sh"

out=$("$TOP/scripts/checksrc" 2>&1) || fail "checksrc on the repository:
$out"
echo "$out"

need_cmd git
tree=$T/tree
mkdir -p "$tree/scripts" "$tree/docs" || fail "mkdir"
cp "$TOP/scripts/checksrc" "$tree/scripts/checksrc" || fail "cp checksrc"
printf '# Notes\n\nSee docs/design.md and docs/schema.md.\n' >"$tree/docs/notes.md"

# run_checksrc EXPECTED_STATUS: runs the copy, output in $T/out.
run_checksrc() {
	st=0
	(cd "$tree" && sh scripts/checksrc >"$T/out" 2>&1) || st=$?
	[ "$st" -eq "$1" ] || fail "checksrc exited $st, expected $1:
$(cat "$T/out")"
}

for mode in git plain; do
	rm -rf "$tree/.git"
	if [ "$mode" = git ]; then
		git -C "$tree" init -q || fail "git init"
		git -C "$tree" add -A || fail "git add"
	fi
	run_checksrc 0
	# Spelt in pieces, so that this file does not trip the check itself.
	up=.. w=work sp=specs d=DESIGN s=SCHEMA
	for ref in "$up/shared/$d.md" "$up/wt/$s.md" "/$w/shared/$sp/sensors.md" "$s.md" "$d.md" \
		"$sp/snowpipe-rest.md section 6"; do
		printf 'int x;\n/* as %s says */\n' "$ref" >"$tree/planted.c"
		[ "$mode" = git ] && git -C "$tree" add planted.c
		run_checksrc 1
		grep -q 'outside the repository' "$T/out" || fail "$mode: $ref: no message"
		grep -qF "planted.c:2:" "$T/out" || fail "$mode: $ref: file and line not named:
$(cat "$T/out")"
		rm -f "$tree/planted.c"
		[ "$mode" = git ] && git -C "$tree" rm -q --cached planted.c
	done
	run_checksrc 0
done

# In a git checkout only tracked files count: build output and scratch
# files that are not committed may say what they like.
git -C "$tree" init -q || fail "git init"
git -C "$tree" add -A || fail "git add"
echo "$up/shared/$d.md" >"$tree/untracked.txt"
run_checksrc 0
echo "checksrc: planted references fail it (git and plain trees), untracked files do not"
