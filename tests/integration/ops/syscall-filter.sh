#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The daemons inside their units' system call filters: each unit's
# SystemCallFilter= lines (config/systemd/*.service) are expanded with
# `systemd-analyze syscall-filter`, exactly as systemd would, and applied
# with EPERM for everything else (tests/ops/sysfilter.c); sensord on the
# fake chips and streamerd against the emulator must then run as usual:
# records journaled, rows committed, no "Operation not permitted" anywhere.
# This is what a Raspberry Pi with systemd does, without needing systemd.
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd systemd-analyze python3
need_built "$BIN/ops-sysfilter"

# All groups with their members, then each unit's filter expanded.
systemd-analyze syscall-filter 2>/dev/null | awk '
	/^@/ { g = $1; next }
	/^ +#/ { next }
	/^ +[-@a-z0-9_]+$/ { sub(/^ +/, ""); m[g] = m[g] " " $0 }
	END { for (k in m) print k ":" m[k] }' >"$T/groups"
expand() { # UNIT OUT
	# shellcheck disable=SC2046 # one word per filter entry
	python3 - "$T/groups" $(sed -n 's/^SystemCallFilter=//p' "$1") >"$2" <<'PY'
import sys
g = {}
for l in open(sys.argv[1]):
    k, v = l.rstrip("\n").split(":", 1)
    g[k] = v.split()
out = set()
def add(x, seen=()):
    if x.startswith("@"):
        if x not in seen:
            for y in g.get(x, []):
                add(y, seen + (x,))
    else:
        out.add(x)
for w in sys.argv[2:]:
    add(w)
print("\n".join(sorted(out)))
PY
}
for u in sensord streamerd; do
	expand "$TOP/config/systemd/$u.service" "$T/$u.list"
	n=$(wc -l <"$T/$u.list")
	echo "$u.service allows $n system calls"
	[ "$n" -gt 100 ] || fail "$u.service's filter expanded to only $n calls"
done

# The read-only adjtimex behind every record's "synced" flag must get
# through the filter (ProtectClock= would deny it): the same answer inside
# and outside, never EPERM.
cat >"$T/adj.py" <<'PY'
import ctypes, ctypes.util
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
buf = ctypes.create_string_buffer(512)
r = libc.adjtimex(buf)
print(r if r >= 0 else "errno %d" % ctypes.get_errno())
PY
outside=$(python3 "$T/adj.py")
inside=$("$BIN/ops-sysfilter" "$T/sensord.list" -- python3 "$T/adj.py" 2>&1)
echo "adjtimex outside the filter: $outside, inside sensord.service's: $inside"
[ "$inside" = "$outside" ] || fail "adjtimex inside sensord.service's filter gave '$inside', outside '$outside'"

cat >"$T/steady.json" <<'J'
{ "scd4x": { "co2": 600, "t": 21.0, "rh": 42.0 }, "sgp30": { "eco2": 410, "tvoc": 9 },
  "icp10125": { "p": 100400.0, "t": 20.5 } }
J
sandbox_emu --commit-lag-ms 200
SB_SENSORD_FILTER=$T/sensord.list sandbox_configs "$T/steady.json" 500
STREAMERD_WRAPPER="$BIN/ops-sysfilter $T/streamerd.list --"
export STREAMERD_WRAPPER
supervise start || fail "supervise start under the filters"
five_rows() { [ "$(table_rows)" -ge 5 ]; }
poll 30 five_rows || true # said below
rows=$(table_rows)
echo "rows committed under the units' filters: $rows"
[ "$rows" -ge 5 ] || fail "only $rows rows committed within 30 s"
st=$(supervise status) || fail "a daemon is not running under its filter"
echo "$st"
grep -q 'ops-sysfilter' "$T/log/supervise.log" || fail "the daemons were not started through the filter"
if grep -il 'operation not permitted\|EPERM' "$T"/log/sensord.log "$T"/log/streamerd.log; then
	fail "a daemon hit the filter"
fi
echo "both daemons work inside their units' system call filters"
