#!/bin/sh
# Runs shellcheck on the shell scripts users run: the ops files (supervise,
# demo, keys.sh, the ops and package tests) at every severity, and any other script in
# scripts/ at warning level and above.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v shellcheck >/dev/null 2>&1 || { echo "shellcheck not installed (make deps)"; exit 77; }
is_sh() { [ -f "$1" ] && head -n 1 "$1" | grep -q '^#!.*/sh'; }
mine="" others=""
for f in "$top"/scripts/supervise "$top"/scripts/demo "$top"/scripts/ops-* \
	"$top"/config/snowflake/*.sh "$top"/tests/integration/5[0-9]-ops-*.sh "$top"/tests/package/*.sh; do
	is_sh "$f" && mine="$mine $f"
done
for f in "$top"/scripts/*; do
	case " $mine " in *" $f "*) continue ;; esac
	is_sh "$f" && others="$others $f"
done
[ -n "$mine" ] || { echo "FAIL: no scripts found"; exit 1; }
rc=0
# -x follows the sourced scripts/ops-sandbox.sh (paths relative to $top)
cd "$top" || exit 1
mine=$(echo "$mine" | sed "s#$top/##g")
others=$(echo "$others" | sed "s#$top/##g")
# shellcheck disable=SC2086
shellcheck -x -s sh $mine || rc=1
if [ -n "$others" ]; then
	# shellcheck disable=SC2086
	shellcheck -s sh -S warning $others || rc=1
fi
[ $rc -eq 0 ] || exit 1
echo "shellcheck clean: $(echo "$mine" | wc -w) ops scripts (all levels), $(echo "$others" | wc -w) other scripts/ (warnings)"
