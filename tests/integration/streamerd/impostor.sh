#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# streamerd trusts the socket only when sensord's user (sensord_user) or
# root serves it (issue 13, attack 2: a member of the socket's group bound
# the socket path while sensord was down, and streamerd streamed its 40
# forged records into the table). Here uid 4242 serves a journal at the
# path, from a directory it may write: streamerd refuses it with a clear
# line and nothing reaches the table; once the real server (root here) is
# back, streamerd streams its records exactly once.
set -u
. "$TOP/tests/lib/harness.sh"
need_root
need_built "$BIN/fake-sensord"

start_emu --commit-lag-ms 200
streamerd_conf pat
# the impostor's directory: writable by it, as /run/snowsense was
mkdir -m 1777 "$T/run"
chmod 1777 "$T/run"
setpriv --reuid=4242 --regid=4242 --clear-groups "$BIN/fake-sensord" -n 40 \
	"$SENSORD_SOCK" "$T/run/impostor.state" >"$T/impostor.out" 2>"$T/impostor.log" &
impostor=$!
track $impostor impostor
wait_for 5 "the impostor to listen" grep -q ready "$T/impostor.out"
start_streamerd
untrusted() { grep -q "the socket is served by another user than sensord's (or root): not trusted" "$STREAMERD_LOG"; }
wait_for 10 "streamerd to refuse the impostor" untrusted
sleep 2
expect_eq "$(table_rows)" 0 "rows from the impostor's journal"
grep -q "subscribed to sensord" "$STREAMERD_LOG" && fail "streamerd subscribed to the impostor"
stop_pid $impostor impostor 5 any
rm -f "$SENSORD_SOCK"

# the real server is back: its records, exactly once
start_fake_sensord -n 40
wait_acked 40 30
stop_streamerd
check_table 40 --values
echo "ok: uid 4242's socket refused, nothing streamed from it; the real one's 40 records exactly once"
