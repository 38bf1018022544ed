#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Issue 12, corner 2: a 5 KB last_error_message in every open and status
# answer (no field length is documented) must not make them unusable:
# commits are seen, and after a restart the channel reopens and goes on.
set -u
. "$TOP/tests/lib/harness.sh"

start_emu --commit-lag-ms 100
fault '{"kind":"long_error_message","bytes":5120}'
streamerd_conf jwt '"channel_name": "longmsg"'
start_fake_sensord -n 40
start_streamerd
wait_acked 40 30
stop_streamerd
stop_fake_sensord
start_fake_sensord -r 20 -m 70
start_streamerd
wait_acked 70 30
stop_streamerd
stop_fake_sensord
check_table 70
echo "ok: 5 KB error messages in open and status answers; 70 records across a restart"
