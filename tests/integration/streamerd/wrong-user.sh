#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A streamerd that sensord does not let ack (streamer_user names another
# user) is refused on every reconnect: it must stop once, exit 4, with a
# message that names streamer_user, not reconnect for ever. Nothing is
# acked and the journal keeps every record.
set -u
. "$TOP/tests/lib/harness.sh"
need_root
sensord_conf '"streamer_user": "daemon",'
start_emu
streamerd_conf jwt
start_sensord --interval 0.05
wait_sensord last_seq 5
start_streamerd
gone() { ! alive "$STREAMERD_PID"; }
poll 20 gone || fail "streamerd still running after 20 s of refused acks"
wait "$STREAMERD_PID"
rc=$?
STREAMERD_PID=""
[ "$rc" = 4 ] || fail "streamerd exited $rc, expected 4"
n=$(grep -c "sensord refuses this process" "$STREAMERD_LOG")
[ "$n" = 1 ] || fail "$n refusal lines, expected 1"
grep -q "streamer_user" "$STREAMERD_LOG" || fail "the message does not name streamer_user"
[ "$(sensord_status acked_seq)" = 0 ] || fail "sensord acked $(sensord_status acked_seq)"
[ "$(sensord_status first_seq)" = 1 ] || fail "journal lost its first records"
stop_sensord
echo "ok: a refused streamer stops once with exit 4 naming streamer_user"
