#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The example configs document every key: for each key that
# `--print-config` lists (the daemons' own tables, walked), a _comment
# entry in the key's block, or in a block around it, names it; the chip
# settings say their units and allowed values; "device" is not set (it is
# the host name unless named) and its comment gives a name only as an
# example.
set -u
. "$TOP/tests/lib/harness.sh"
need_built "$BIN/sensord" "$BIN/streamerd"
watch_log "$T/err"

"$BIN/sensord" -f "$TOP/config/sensord.json" --print-config >"$T/sensord.out" 2>"$T/err" ||
	fail "sensord --print-config of config/sensord.json: exit $?"
# sensord's user, where the example names one: one that exists here
sed "s/\"sensord_user\": \"[^\"]*\"/\"sensord_user\": \"$RUN_USER\"/" "$TOP/config/streamerd.json" \
	>"$T/streamerd.json"
"$BIN/streamerd" -f "$T/streamerd.json" --print-config >"$T/streamerd.out" 2>"$T/err" ||
	fail "streamerd --print-config of config/streamerd.json: exit $?"

python3 - "$TOP/config" "$T" "$(hostname)" <<'PY' >"$T/err" 2>&1 || fail "config docs: $(cat "$T/err")"
import json, re, sys
top, t, host = sys.argv[1:]
bad = []

def comments(obj):
    return [(k, v) for k, v in obj.items() if k.startswith("_comment") and isinstance(v, str)]

def documented(leaf, chain):
    """leaf named by a _comment of its block or of a block around it"""
    for obj in chain:
        for k, v in comments(obj):
            if k == "_comment_" + leaf or re.search(r"(?<![\w.])%s(?!\w)" % re.escape(leaf), v):
                return True
    return False

def walk(eff, raw_chain, path, name):
    for k, v in eff.items():
        if k.startswith("_comment"):
            continue
        if isinstance(v, dict):
            inner = raw_chain[-1].get(k)
            if not isinstance(inner, dict):
                bad.append("%s: block %s%s is not in the file" % (name, path, k))
                continue
            walk(v, raw_chain + [inner], path + k + ".", name)
        elif not documented(k, raw_chain):
            bad.append("%s: no _comment names %s%s" % (name, path, k))

for name in ("sensord", "streamerd"):
    raw = json.load(open("%s/%s.json" % (top, name)))
    eff = json.load(open("%s/%s.out" % (t, name)))
    walk(eff, [raw], "", name)

raw = json.load(open(top + "/sensord.json"))
eff = json.load(open(t + "/sensord.out"))
# the chip settings: units and allowed values
want = {
    ("scd4x", "_comment_temperature_offset"): ["°C", "0.0..20.0"],
    ("scd4x", "_comment_altitude"): ["Metres", "0..3000"],
    ("scd4x", "_comment_asc"): ["true or false"],
    ("scd4x", "_comment_mode"): ['"periodic"', '"low_power"'],
    ("sgp30", "_comment_humidity_compensation"): ["true or false"],
    ("icp10125", "_comment_mode"): ['"lp"', '"n"', '"ln"', '"uln"'],
}
for (blk, key), words in want.items():
    text = raw.get(blk, {}).get(key, "")
    for w in words:
        if w not in text:
            bad.append("sensord: %s.%s does not say %s" % (blk, key, w))
for k, words in {"_comment_journal": ['"always"', '"interval"', '"never"'],
                 "_comment_require": ['"scd4x_or_icp10125"', '"any"', '"all"', '"none"']}.items():
    bad += ["sensord: %s does not say %s" % (k, w) for w in words if w not in raw.get(k, "")]
s = json.load(open(top + "/streamerd.json"))
bad += ["streamerd: no compression %s" % w for w in ('"zstd"', '"gzip"', '"none"')
        if w not in s.get("_comment_batching", "")]
# device: an example in a comment, never a value
if "device" in raw:
    bad.append('sensord: "device" is set (%r): it must be the host name unless named' % raw["device"])
if "example" not in raw.get("_comment_device", ""):
    bad.append("sensord: _comment_device gives no example")
if eff.get("device") != host:
    bad.append("sensord: device %r in effect, not the host name %r" % (eff.get("device"), host))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
echo "ok: every key of both example configs is documented; device is only an example"
