#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The unmodified sensord on the emulated chips of scenarios/default.json, in
# real time: every value in the records matches the scenario to the chip's
# resolution (signed ICP-10125 OTP included), the SGP30 has no values and
# the state warming_up first, then the scripted values; the chips' own
# counters (stats file) show the SGP30 measured at 1 Hz, never before
# iaq_init, and the compensation words sent: ICP pressure to the SCD4x
# (round(P/100) hPa) and SCD4x T/RH as absolute humidity to the SGP30.
set -eu
. "$TOP/tests/lib/harness.sh"
sensord_conf ''
stats=$T/stats.json
CHIPS=$TOP/tests/fakei2c/scenarios/default.json CHIPS_OPTS="--stats $stats" start_sensord --interval 1

# ~19 s of records: the SGP30 leaves its 15 s warm-up on the way
timeout 60 "$BIN/sensortap" -s "$SENSORD_SOCK" --from oldest -n 19 >"$T/recs" || fail "sensortap"
cp "$stats" "$T/stats.snap"
python3 - "$T/recs" "$T/stats.snap" <<'PY' || fail "records or chip counters"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
st = json.load(open(sys.argv[2]))
chips = st["chips"]

def close(a, b, tol, what):
    assert a is not None and abs(a - b) <= tol, f"{what}: {a} vs {b}"

scd = [r["scd4x"] for r in rows if r.get("scd4x")]
icp = [r["icp10125"] for r in rows if r.get("icp10125")]
sgp = [r["sgp30"] for r in rows if r.get("sgp30")]
warm = [r for r in rows if r["sgp30_state"] == "warming_up"]
assert len(scd) >= 3, f"only {len(scd)} SCD4x samples in {len(rows)} records"
assert len(icp) >= 15 and len(sgp) + len(warm) >= 15, (len(icp), len(sgp), len(warm))
for b in scd:
    assert b["co2"] == 812, b
    close(b["t"], 22.5, 175 / 65535, "SCD4x T")
    close(b["rh"], 41.0, 100 / 65535, "SCD4x RH")
for b in icp:
    close(b["p"], 100734.5, 0.05, "ICP-10125 P")
    close(b["t"], 21.3, 175 / 65536, "ICP-10125 T")
# warm-up first (the chip's fixed 400/0 never reaches a record), never back
states = [r["sgp30_state"] for r in rows]
assert warm and sgp, f"warm-up {len(warm)}, after {len(sgp)}"
assert "warming_up" not in states[states.index("ok"):], states
for b in sgp:
    assert (b["eco2"], b["tvoc"]) == (450, 12) and not b["warmup"], b
real = sgp

# counters kept by the chips themselves
s, g, p = chips["scd4x"], chips["sgp30"], chips["icp10125"]
n = g["commands"].get("0x2008", 0)
assert abs(n - st["t"]) <= 2.5, f"SGP30 measure_iaq {n} times in {st['t']:.1f} s"
assert g["measure_before_init"] == 0, g
iv = g["iaq_intervals"]
# drift-free 1 Hz, jitter under 50 ms (one late turn tolerated on a loaded machine)
assert abs(iv["mean_ms"] - 1000) < 10 and iv["over_50ms"] <= 1, iv
assert g["commands"].get("0x2003") == 1, g["commands"]
assert s["last_args"].get("0xe000") == [1007], s["last_args"]
assert s["pressure"] == 1007 and s["mode"] == "periodic" and s["rejected"] == 0, s
# AH(22.5 °C, 41 %RH) = 8.17 g/m^3 -> 0x082C = 2092 (±1 for T/RH quantisation)
ah = g["last_args"].get("0x2061", [None])[0]
assert ah is not None and abs(ah - 2092) <= 1, ah
assert g["absolute_humidity"] == ah
assert p["commands"].get("0xc7f7") == 4 and p["nacks"] == 0, p
assert st["preload"]["control_errors"] == 0
print(f"ok: {len(rows)} records, {len(scd)} SCD4x, {len(icp)} ICP, "
      f"{len(warm)}+{len(real)} SGP30, measure_iaq {n} in {st['t']:.1f} s, "
      f"intervals {iv['min_ms']:.1f}..{iv['max_ms']:.1f} ms (max jitter {iv['max_dev_ms']:.1f} ms)")
PY
stop_sensord
# a clean stop leaves the SCD4x idle
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(j["chips"]["scd4x"]["mode"] != "idle")' \
	"$stats" || fail "SCD4x still measuring after sensord stopped"
echo "ok"
