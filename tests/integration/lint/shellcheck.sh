#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Lints every shell script of the project with shellcheck, at every
# severity: the ones users run (supervise, demo, keys.sh), the test harness
# (tests/lib/, tests/run-tests, with-chips) and every test script; any
# other script in scripts/ at warning level and above. Paths are relative
# to the repository, as the scripts' "shellcheck source=" lines are.
# The harness is checked once with -x (following what it sources); the
# test scripts, which all source it, are checked without following it
# again (it would take ~30 s for ~60 scripts), so the variables a test sets
# for the harness are given on the command that reads them.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd shellcheck
is_sh() { [ -f "$1" ] && head -n 1 "$1" | grep -q -e '^#!.*/sh' -e '^# shellcheck shell=sh'; }
cd "$TOP" || fail "cd $TOP"
users="" tests="" others=""
for f in scripts/supervise scripts/demo config/snowflake/*.sh tests/run-tests \
	tests/fakei2c/with-chips tests/lib/*.sh tests/*/*.sh; do
	case $f in tests/*/test-*.sh) continue ;; esac
	is_sh "$f" && users="$users $f"
done
for f in tests/integration/*/*.sh tests/*/test-*.sh; do
	is_sh "$f" && tests="$tests $f"
done
for f in scripts/*; do
	case " $users " in *" $f "*) continue ;; esac
	is_sh "$f" && others="$others $f"
done
if [ -z "$users" ] || [ -z "$tests" ]; then fail "no scripts found"; fi
# The lists are file names without spaces.
# shellcheck disable=SC2086
shellcheck -x -s sh $users || fail "shellcheck: problems in the scripts above"
# shellcheck disable=SC2086
shellcheck -s sh -e SC1091 $tests || fail "shellcheck: problems in the tests above"
if [ -n "$others" ]; then
	# shellcheck disable=SC2086
	shellcheck -s sh -S warning $others || fail "shellcheck: problems in scripts/"
fi
echo "shellcheck clean: $(echo "$users" | wc -w) scripts and libraries, $(echo "$tests" | wc -w) tests" \
	"(all levels), $(echo "$others" | wc -w) other scripts/ (warnings)"
