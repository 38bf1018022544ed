#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The chip blocks of sensord.json and "require", seen where they act: in
# what the emulated chips received (their own counters, the stats file of
# tests/fakei2c) and in the records.
#   scd4x.temperature_offset, .altitude, .asc  the words written to the chip
#   scd4x.mode          low_power starts the low-power periodic measurement
#   icp10125.mode       ln measures with the low-noise command
#   sgp30.humidity_compensation  false: no absolute humidity is ever sent,
#                       though the SCD4x gives T/RH (true is chip-values.sh)
#   <chip>.enabled      false: the chip is never addressed, and no record
#                       carries its block
#   require             any: the SGP30 alone is enough (the default wants
#                       an SCD4x or an ICP-10125); all: a missing chip
#                       stops the start; none: no chip at all is fine
set -eu
. "$TOP/tests/lib/harness.sh"
need_cmd python3

# stat STATS PYTHON-EXPRESSION: a value from a stats file (c = its chips)
stat() {
	python3 -c 'import json, sys; c = json.load(open(sys.argv[1]))["chips"]; print(eval(sys.argv[2]))' "$1" "$2"
}

# records N: the next N records as sensortap prints them, into $T/recs
records() {
	timeout 30 "$BIN/sensortap" -s "$SENSORD_SOCK" --from now -n "$1" >"$T/recs" || fail "sensortap"
}

# blocks CHIP: in how many of $T/recs the chip has a block
blocks() {
	python3 -c 'import json, sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)[sys.argv[2]]))' \
		"$T/recs" "$1"
}

# states CHIP: the chip's states in $T/recs, each once, sorted
states() {
	python3 -c 'import json, sys; print(" ".join(sorted({json.loads(l)[sys.argv[2] + "_state"] for l in open(sys.argv[1])})))' \
		"$T/recs" "$1"
}

# 1. SCD4x settings and mode, ICP-10125 mode, SGP30 off
sensord_conf '"journal": {"fsync": "never"},
	"scd4x": {"temperature_offset": 2.5, "altitude": 420, "asc": false, "mode": "low_power"},
	"sgp30": {"enabled": false}, "icp10125": {"mode": "ln"},'
CHIPS_OPTS="--stats $T/stats1.json" start_sensord --interval 0.2
records 8
[ "$(blocks icp10125)" -ge 1 ] || fail "no ICP-10125 block in 8 records at 5 Hz"
[ "$(blocks sgp30)" = 0 ] || fail "a disabled SGP30 has a block in the records"
stop_sensord
s=$T/stats1.json
# round(offset * 65535 / 175)
expect_eq "$(stat "$s" 'c["scd4x"]["last_args"].get("0x241d")')" "[936]" "temperature_offset 2.5 C as written"
expect_eq "$(stat "$s" 'c["scd4x"]["last_args"].get("0x2427")')" "[420]" "altitude 420 m as written"
expect_eq "$(stat "$s" 'c["scd4x"]["last_args"].get("0x2416")')" "[0]" "asc false as written"
expect_eq "$(stat "$s" 'c["scd4x"]["commands"].get("0x21ac", 0)')" 1 "mode low_power: start_low_power_periodic_measurement"
expect_eq "$(stat "$s" 'c["scd4x"]["commands"].get("0x21b1", 0)')" 0 "mode low_power: start_periodic_measurement"
[ "$(stat "$s" 'c["icp10125"]["commands"].get("0x70df", 0)')" -ge 1 ] ||
	fail "icp10125 mode ln: no low-noise measurement: $(stat "$s" 'c["icp10125"]["commands"]')"
expect_eq "$(stat "$s" 'c["icp10125"]["commands"].get("0x6825", 0)')" 0 "icp10125 mode ln: normal-mode measurements"
expect_eq "$(stat "$s" 'sum(c["sgp30"]["commands"].values())')" 0 "commands sent to a disabled SGP30"
echo "ok: SCD4x words, SCD4x and ICP-10125 modes, SGP30 disabled"

# 2. no humidity compensation; ICP-10125 off. The SCD4x has a first sample
# after 5 s; the SGP30 measures every second after it.
sensord_conf '"journal": {"fsync": "never"}, "sgp30": {"humidity_compensation": false},
	"icp10125": {"enabled": false},'
CHIPS_OPTS="--stats $T/stats2.json" start_sensord --interval 1
records 9
scd=$(blocks scd4x)
[ "$scd" -ge 1 ] || fail "no SCD4x sample in 9 s: humidity compensation would have had nothing to send"
[ "$(blocks icp10125)" = 0 ] || fail "a disabled ICP-10125 has a block in the records"
stop_sensord
s=$T/stats2.json
[ "$(stat "$s" 'c["sgp30"]["commands"].get("0x2008", 0)')" -ge 5 ] || fail "the SGP30 did not measure"
expect_eq "$(stat "$s" 'c["sgp30"]["commands"].get("0x2061", 0)')" 0 \
	"set_absolute_humidity with humidity_compensation false ($scd SCD4x samples)"
expect_eq "$(stat "$s" 'sum(c["icp10125"]["commands"].values())')" 0 "commands sent to a disabled ICP-10125"
echo "ok: no humidity compensation, ICP-10125 disabled"

# 3. require any: only the SGP30 runs (SCD4x and ICP-10125 disabled); in
# its first 15 s it is warming up, with no block (sensord's clock, not the
# chips' time_scale)
sensord_conf '"journal": {"fsync": "never"}, "require": "any",
	"scd4x": {"enabled": false}, "icp10125": {"enabled": false},'
CHIPS_OPTS="--stats $T/stats3.json" start_sensord --interval 0.2
records 5
case " $(states sgp30) " in
*" warming_up "* | *" ok "*) ;;
*) fail "require any: the SGP30 is not running: $(states sgp30)" ;;
esac
[ "$(blocks scd4x)" = 0 ] || fail "a disabled SCD4x has a block in the records"
expect_eq "$(states scd4x) $(states icp10125)" "disabled disabled" "the disabled chips' states"
stop_sensord
[ "$(stat "$T/stats3.json" 'c["sgp30"]["commands"].get("0x2008", 0)')" -ge 1 ] ||
	fail "require any: the SGP30 did not measure"
expect_eq "$(stat "$T/stats3.json" 'sum(c["scd4x"]["commands"].values())')" 0 "commands sent to a disabled SCD4x"
# the same chips without "require": refused
sensord_conf '"scd4x": {"enabled": false}, "icp10125": {"enabled": false},'
rc=0
"$WITH_CHIPS" "$CHIPS" -- "$BIN/sensord" -f "$SENSORD_CONF" -d >"$T/err" 2>&1 || rc=$?
expect_eq "$rc" 4 "exit status with the SGP30 alone and the default require"

# 4. require all: a missing chip stops the start (the default starts)
printf '{"time_scale": 20, "scd4x": {}, "icp10125": {}}\n' >"$T/no-sgp30.json"
sensord_conf '"require": "all",'
rc=0
"$WITH_CHIPS" "$T/no-sgp30.json" -- "$BIN/sensord" -f "$SENSORD_CONF" -d >"$T/err" 2>&1 || rc=$?
expect_eq "$rc" 4 "exit status with require all and no SGP30"
grep -q 'PRODUCTION MODE FAILED: Not all sensors initialized' "$T/err" || fail "require all: $(cat "$T/err")"
[ ! -S "$SENSORD_SOCK" ] || fail "require all: socket left behind"

# 5. require none: no chip at all, records still come (system values only)
printf '{}\n' >"$T/no-chips.json"
sensord_conf '"require": "none", "journal": {"fsync": "never"},'
CHIPS=$T/no-chips.json start_sensord --interval 0.2
records 3
[ "$(blocks scd4x)$(blocks sgp30)$(blocks icp10125)" = 000 ] || fail "require none: chip blocks without chips"
stop_sensord
echo "ok: require any, all and none"
