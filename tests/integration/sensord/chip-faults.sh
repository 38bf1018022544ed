#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Faults injected into the emulated chips while the unmodified sensord runs
# (control file): the ICP-10125 unplugged and replugged (powered up again),
# a CRC burst on the SCD4x, a NACK burst on the SGP30. Every fault is named
# in the records, the other chips go on, each chip comes back, and no
# record ever carries a value the scenario did not script (a corrupted word
# never becomes a value, an absent chip never yields a repeated one).
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf ''
stats=$T/stats.json
ctl=$T/ctl.json
echo '{}' >"$ctl"
CHIPS=$TOP/tests/fakei2c/scenarios/default.json CHIPS_OPTS="--stats $stats --control $ctl" \
	start_sensord --interval 1

# control: written to a temp file and renamed, as README.md asks
control() {
	printf '%s\n' "$1" >"$ctl.tmp"
	mv "$ctl.tmp" "$ctl"
}

wait_sensord last_seq 5
control '{"icp10125": {"unplug": true}, "comment": "a"}'
wait_sensord last_seq 9
control '{"icp10125": {"unplug": false}, "comment": "b"}'
# the next faults only once a record has a pressure again: the driver's
# retries back off (1 s, 2 s, 4 s...), so how long that takes varies
timeout 30 "$BIN/sensortap" -s "$SENSORD_SOCK" --from now | python3 -c '
import json, sys
sys.exit(next((0 for l in sys.stdin if json.loads(l).get("icp10125")), 1))' ||
	fail "no record with a pressure within 30 s of the replug"
n=$(($(sensord_status last_seq) + 20))
control '{"scd4x": {"crc": 3}, "sgp30": {"nack": 4}, "comment": "c"}'
# the SGP30 driver re-initialises: another 15 s warm-up before values
wait_sensord last_seq "$n" 40
cp "$stats" "$T/stats.snap"
timeout 30 "$BIN/sensortap" -s "$SENSORD_SOCK" --from oldest -n "$n" >"$T/recs" || fail "sensortap"

python3 - "$T/recs" "$T/stats.snap" <<'PY' || fail "records or chip counters"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
st = json.load(open(sys.argv[2]))
chips = st["chips"]

def close(a, b, tol):
    return a is not None and abs(a - b) <= tol

# never a value the scenario did not script
for r in rows:
    if r.get("scd4x"):
        b = r["scd4x"]
        assert b["co2"] == 812 and close(b["t"], 22.5, 0.003) and close(b["rh"], 41, 0.002), r
    if r.get("icp10125"):
        b = r["icp10125"]
        assert close(b["p"], 100734.5, 0.05) and close(b["t"], 21.3, 0.003), r
    if r.get("sgp30"):
        b = r["sgp30"]
        assert (b["eco2"], b["tvoc"]) in ((400, 0), (450, 12)), r

# 1 s records lie half a second off the chips' tick, where the 1 Hz chips'
# commands go out (and their previous answers are read), before and after
# the faults: a record that fires a little late still takes the same answers
for r in rows:
    if r.get("icp10125"):
        off = (r["t"] - r["icp10125"]["t_meas"]) / 1e9 % 1
        assert 0.2 <= off <= 0.8, ("record next to the tick", off, r)

faults = [(r["seq"], f) for r in rows for f in r.get("faults") or []]
def first_fault(chip):
    return next((seq for seq, f in faults if f.startswith(chip + ":")), None)

for chip in ("icp10125", "scd4x", "sgp30"):
    assert first_fault(chip) is not None, f"no {chip} fault named in {faults}"

# the ICP-10125 went away, the others went on, and it came back
f = first_fault("icp10125")
gone = [r for r in rows if r["seq"] >= f and not r.get("icp10125")]
assert gone, "ICP-10125 never missing from a record"
assert all(r["sgp30_state"] in ("ok", "warming_up") for r in gone
           if r["seq"] < first_fault("sgp30")), "the SGP30 stopped with the ICP-10125"
# retrying while it is away; once it measures again its first answer is
# read on the next 1 s tick, so a record or two in between may say
# no_new_sample (no fault left to name), never anything else
states = [r["icp10125_state"] for r in gone]
n = states.count("retrying")
assert n >= 1 and states[:n] == ["retrying"] * n, states
assert all(s == "no_new_sample" for s in states[n:]) and len(states) - n <= 2, states
assert [r["seq"] for r in gone] == list(range(gone[0]["seq"], gone[-1]["seq"] + 1)), \
    ("a record with a pressure inside the outage", [r["seq"] for r in gone])
assert first_fault("sgp30") > gone[-1]["seq"], "faults overlap: the test's timing is off"
back = [r for r in rows if r["seq"] > gone[-1]["seq"] and r.get("icp10125")]
assert back, "ICP-10125 never came back"
assert rows[-1].get("icp10125"), "ICP-10125 not in the last record"
# the SCD4x and SGP30 came back after their bursts
assert any(r.get("scd4x") for r in rows if r["seq"] > first_fault("scd4x")), "SCD4x never came back"
# (re-initialised: its new warm-up may not be over yet)
assert rows[-1]["sgp30_state"] in ("ok", "warming_up"), rows[-1]

s, g = chips["scd4x"], chips["sgp30"]
assert s["crc_corrupted"] == 3, s
assert g["nacks"] >= 4, g
assert st["preload"]["control_applied"] == 4 and st["preload"]["control_errors"] == 0, st["preload"]
print(f"ok: {len(rows)} records; faults: {faults}")
PY
stop_sensord
echo "ok"
