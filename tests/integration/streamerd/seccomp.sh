#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# streamerd's seccomp filter after start-up, proven from inside the running
# daemon: the test-side preload sandboxprobe.so hooks renameat() (each
# rewrite of the metrics file) and tries sockets of each family and execve
# there. IPv4, IPv6 and Unix sockets are allowed (Snowflake, sensord),
# netlink and execve are not (issue 13: it allowed netlink). The account
# is reached by the name "localhost", so the resolver runs inside the
# filter: glibc asks netlink only to sort several addresses and does
# without it, and every record still lands exactly once.
set -u
. "$TOP/tests/lib/harness.sh"
probe=$BUILD/lib/sandboxprobe.so
need_built "$probe"

start_emu --commit-lag-ms 200
streamerd_conf pat
sed -i 's|"account_url": "https://127\.0\.0\.1:|"account_url": "https://localhost:|' "$STREAMERD_CONF"
grep -q '"account_url": "https://localhost:' "$STREAMERD_CONF" || fail "no localhost URL in the config"
start_fake_sensord -n 60 -r 20 -m 120
watch_log "$STREAMERD_LOG"
env SANDBOXPROBE_OUT="$T/probe" LD_PRELOAD="$probe" \
	ASAN_OPTIONS="$DAEMON_ASAN${DAEMON_ASAN:+:}verify_asan_link_order=0" \
	"$BIN/streamerd" -d -f "$STREAMERD_CONF" >>"$STREAMERD_LOG" 2>&1 &
STREAMERD_PID=$!
track "$STREAMERD_PID" streamerd
wait_acked 120 30
probed() { [ -s "$T/probe" ]; }
wait_for 15 "the metrics file to be rewritten inside the filter" probed
stop_streamerd
check_table 120
bad=$(grep -v '^inet=ALLOWED inet6=ALLOWED netlink=EPERM unix=ALLOWED execve=EPERM$' "$T/probe" || true)
[ -z "$bad" ] || fail "inside streamerd's filter: $bad"
echo "ok: $(wc -l <"$T/probe") probes inside streamerd: netlink and execve refused; 120 rows via localhost"
