#!/bin/sh
# The daemons inside their units' system call filters: each unit's
# SystemCallFilter= lines (config/systemd/*.service) are expanded with
# `systemd-analyze syscall-filter`, exactly as systemd would, and applied
# with EPERM for everything else (tests/ops/sysfilter.c); sensord on the
# fake chips and streamerd against the emulator must then run as usual:
# records journaled, rows committed, no "Operation not permitted" anywhere.
# This is what a Raspberry Pi with systemd does, without needing systemd.
set -u
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$top/build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
command -v systemd-analyze >/dev/null 2>&1 || { echo "systemd-analyze not installed (make deps)"; exit 77; }
for f in "$BUILD/bin/sensord" "$BUILD/bin/streamerd" "$BUILD/bin/snowpipe-emu" \
	"$BUILD/bin/ops-sysfilter" "$BUILD/lib/fakei2c.so" "$top/tests/fakei2c/with-chips"; do
	[ -e "$f" ] || { echo "$f not built yet"; exit 77; }
done
# shellcheck source=scripts/ops-sandbox.sh
. "$top/scripts/ops-sandbox.sh"

tmp=$(mktemp -d)
chmod 0755 "$tmp"
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
cleanup() {
	sb_stop
	if [ $fails -ne 0 ]; then
		for l in "$tmp"/sb/log/*.log; do echo "--- $l"; tail -n 25 "$l"; done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# All groups with their members, then each unit's filter expanded.
systemd-analyze syscall-filter 2>/dev/null | awk '
	/^@/ { g = $1; next }
	/^ +#/ { next }
	/^ +[-@a-z0-9_]+$/ { sub(/^ +/, ""); m[g] = m[g] " " $0 }
	END { for (k in m) print k ":" m[k] }' >"$tmp/groups"
expand() { # UNIT OUT
	# shellcheck disable=SC2046 # one word per filter entry
	python3 - "$tmp/groups" $(sed -n 's/^SystemCallFilter=//p' "$1") >"$2" <<'PY'
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
	expand "$top/config/systemd/$u.service" "$tmp/$u.list"
	n=$(wc -l <"$tmp/$u.list")
	echo "$u.service allows $n system calls"
	[ "$n" -gt 100 ] || fail "$u.service's filter expanded to only $n calls"
done

# The read-only adjtimex behind every record's "synced" flag must get
# through the filter (ProtectClock= would deny it): the same answer inside
# and outside, never EPERM.
cat >"$tmp/adj.py" <<'PY'
import ctypes, ctypes.util
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
buf = ctypes.create_string_buffer(512)
r = libc.adjtimex(buf)
print(r if r >= 0 else "errno %d" % ctypes.get_errno())
PY
outside=$(python3 "$tmp/adj.py")
inside=$("$BUILD/bin/ops-sysfilter" "$tmp/sensord.list" -- python3 "$tmp/adj.py" 2>&1)
echo "adjtimex outside the filter: $outside, inside sensord.service's: $inside"
[ "$inside" = "$outside" ] || fail "adjtimex inside sensord.service's filter gave '$inside', outside '$outside'"

cat >"$tmp/chips.json" <<'J'
{ "scd4x": { "co2": 600, "t": 21.0, "rh": 42.0 }, "sgp30": { "eco2": 410, "tvoc": 9 },
  "icp10125": { "p": 100400.0, "t": 20.5 } }
J
sb_init "$tmp/sb"
sb_pki
sb_start_emu --commit-lag-ms 200
SB_SENSORD_FILTER=$tmp/sensord.list sb_configs "$tmp/chips.json" 500
STREAMERD_WRAPPER="$BUILD/bin/ops-sysfilter $tmp/streamerd.list --"
export STREAMERD_WRAPPER
"$sb_supervise" -c "$sb/conf" start || fail "supervise start under the filters"
i=0
while [ "$(sb_rows)" -lt 5 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
rows=$(sb_rows)
echo "rows committed under the units' filters: $rows"
[ "$rows" -ge 5 ] || fail "only $rows rows committed within 30 s"
st=$("$sb_supervise" -c "$sb/conf" status) || fail "a daemon is not running under its filter"
echo "$st"
grep -q 'ops-sysfilter' "$sb/log/supervise.log" || fail "the daemons were not started through the filter"
if grep -il 'operation not permitted\|EPERM' "$sb"/log/sensord.log "$sb"/log/streamerd.log; then
	fail "a daemon hit the filter"
fi
[ $fails -eq 0 ] || exit 1
echo "both daemons work inside their units' system call filters"
