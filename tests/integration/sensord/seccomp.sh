#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The seccomp filter, proven from inside the running daemon: the test-side
# preload sandboxprobe.so hooks statvfs() and renameat() (called for every
# record, after the sandbox is in place) and tries AF_INET, AF_INET6,
# AF_NETLINK and AF_UNIX sockets and execve there. All must fail with
# EPERM — once it listens, sensord may create no socket at all, not even a
# Unix one to reach another local service — while the same probe in an
# unsandboxed process (the control) is allowed.
set -eu
. "$TOP/tests/lib/harness.sh"
probe=$BUILD/lib/sandboxprobe.so
need_built "$probe"
sensord_conf '"journal": {"fsync": "never"},'

# control: the probe works where nothing is filtered (a sanitizer build of
# the probe needs the ASan runtime preloaded into the uninstrumented python)
control_preload=$probe
if [ "${SAN:-}" = 1 ]; then
	control_preload="$(${CC:-cc} -print-file-name=libasan.so) $probe"
fi
SANDBOXPROBE_OUT=$T/control LD_PRELOAD=$control_preload \
	ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 python3 -c 'import os; os.statvfs("/")'
grep -q '^inet=ALLOWED inet6=ALLOWED .*unix=ALLOWED execve=ENOENT$' "$T/control" ||
	fail "control probe: $(cat "$T/control")"

SENSORD_ENV="SANDBOXPROBE_OUT=$T/probe" SENSORD_PRELOAD=$probe start_sensord --interval 0.05
wait_sensord last_seq 5
stop_sensord
[ "$(wc -l <"$T/probe")" -ge 5 ] || fail "probe ran $(wc -l <"$T/probe") times"
grep -v '^inet=EPERM inet6=EPERM netlink=EPERM unix=EPERM execve=EPERM$' "$T/probe" &&
	fail "a forbidden call was not refused"
echo "ok: $(wc -l <"$T/probe") probes inside sensord, all refused with EPERM"
