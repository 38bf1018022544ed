#!/bin/sh
# Runs shellcheck, all severities, on every shell script of the scripts/ and
# config/ trees and on the ops integration tests.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v shellcheck >/dev/null 2>&1 || { echo "shellcheck not installed (make deps)"; exit 77; }
files=""
for f in "$top"/scripts/* "$top"/config/snowflake/*.sh "$top"/tests/integration/5[0-9]-ops-*.sh; do
	[ -f "$f" ] || continue
	head -n 1 "$f" | grep -q '^#!.*sh' || continue
	files="$files $f"
done
[ -n "$files" ] || { echo "FAIL: no scripts found"; exit 1; }
# shellcheck disable=SC2086
shellcheck -s sh $files || exit 1
echo "shellcheck clean: $(echo "$files" | wc -w) scripts"
