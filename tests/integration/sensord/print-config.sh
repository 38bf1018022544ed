#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sensord --print-config prints the configuration in effect as JSON: every
# key, the defaults of those the file leaves out (the device: the host
# name), the keys it sets, --interval applied; the text loads back into the
# same configuration; a bad file gives exit 3 naming the file and the key,
# and nothing on stdout. Needs no bus and no chips.
set -u
. "$TOP/tests/lib/harness.sh"
need_built "$BIN/sensord"
watch_log "$T/err"
sensord_conf '"scd4x": {"altitude": 320, "mode": "low_power"}, "journal": {"fsync": "interval"},'
sed 's|"device": "itest",||' "$SENSORD_CONF" >"$T/nodev.json"

"$BIN/sensord" -f "$T/nodev.json" --print-config --interval 0.5 >"$T/out" 2>"$T/err" ||
	fail "--print-config: exit $?"
python3 - "$T/out" "$SENSORD_STATE" "$(hostname)" <<'PY' || fail "printed config: $(cat "$T/out")"
import json, sys
c = json.load(open(sys.argv[1]))
want = {
    # set in the file
    ("scd4x", "altitude"): 320, ("scd4x", "mode"): "low_power",
    ("journal", "fsync"): "interval", ("state_dir",): sys.argv[2],
    # the command line
    ("interval_ms",): 500,
    # defaults of keys it leaves out
    ("device",): sys.argv[3], ("bus",): "/dev/i2c-1", ("max_clients",): 128,
    ("socket_mode",): "0660", ("disk_path",): "/", ("allowed_uids",): [],
    ("journal", "max_bytes"): 268435456, ("journal", "max_age_days"): 30,
    ("journal", "fsync_interval_ms"): 1000, ("journal", "segment_bytes"): 1048576,
    ("scd4x", "enabled"): True, ("scd4x", "temperature_offset"): 4.0,
    ("scd4x", "asc"): True, ("sgp30", "humidity_compensation"): True,
    ("icp10125", "mode"): "n", ("require",): "scd4x_or_icp10125",
    ("socket_group",): None,
}
bad = []
for path, v in want.items():
    x = c
    for k in path:
        x = x.get(k, "absent") if isinstance(x, dict) else "absent"
    if x != v or type(x) is not type(v):
        bad.append("%s: %r, want %r" % (".".join(path), x, v))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

# What it prints is a configuration: loaded again, it prints the same.
"$BIN/sensord" -f "$T/out" --print-config >"$T/again" 2>"$T/err" || fail "reload: exit $?"
grep -v _comment "$T/out" >"$T/a"
grep -v _comment "$T/again" >"$T/b"
cmp -s "$T/a" "$T/b" || fail "the printed config does not load back: $(diff "$T/a" "$T/b")"

# A bad key: exit 3, file and key named, nothing printed.
printf '{"scd4x": {"altitude": 99999}}\n' >"$T/bad.json"
rc=0; "$BIN/sensord" -f "$T/bad.json" --print-config >"$T/out" 2>"$T/err" || rc=$?
expect_eq "$rc" 3 "exit status for a bad config"
grep -q "bad.json: \"scd4x.altitude\": expected integer" "$T/err" ||
	fail "message: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "a bad config printed: $(cat "$T/out")"
echo "ok: --print-config shows defaults, the file's keys and --interval; bad key exit 3"
