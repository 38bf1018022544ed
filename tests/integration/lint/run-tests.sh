#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/run-tests gives each test the environment of a person's shell, not
# that of the make which runs it: a test that runs make itself, under
# `make -j2 check` as CI runs it, must not inherit the outer make's
# jobserver (it printed "jobserver unavailable" into make demo's output and
# failed ops/demo.sh in CI only). Here an outer `make -j2` runs
# tests/run-tests on a probe script that runs make and fails on any such
# warning or inherited MAKEFLAGS.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd make

mkdir -p "$T/probe" || fail "mkdir"
printf 'all:\n\t@echo inner make ran\n' >"$T/inner.mk"
cat >"$T/probe/probe.sh" <<PROBE
#!/bin/sh
out=\$(make -s -f '$T/inner.mk' 2>&1)
echo "\$out"
[ "\$out" = "inner make ran" ] || { echo "inner make said: \$out"; exit 1; }
[ -z "\${MAKEFLAGS:-}\${MAKELEVEL:-}" ] || { echo "inherited MAKEFLAGS=\${MAKEFLAGS:-} MAKELEVEL=\${MAKELEVEL:-}"; exit 1; }
PROBE
chmod +x "$T/probe/probe.sh"
# Two jobs, so the outer make really runs a jobserver.
printf 'all: a b\na b:\n\t@BUILD=%s/b tests/run-tests %s/probe/probe.sh >%s/$@.out 2>&1\n' \
	"$T" "$T" "$T" >"$T/outer.mk"
env -u MAKEFLAGS -u MAKELEVEL make -C "$TOP" -j2 -s -f "$T/outer.mk" >"$T/outer.out" 2>&1 ||
	fail "outer make failed: $(cat "$T/outer.out" "$T/a.out" "$T/b.out" 2>/dev/null)"
for j in a b; do
	grep -qx '1 passed, 0 failed' "$T/$j.out" ||
		fail "the probe under make -j2 failed:
$(cat "$T/$j.out" "$T/b/test-logs/probe/probe.sh.log" 2>/dev/null)"
done
echo "a make run by a test under make -j2: no jobserver warning, no inherited MAKEFLAGS"
