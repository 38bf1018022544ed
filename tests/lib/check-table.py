#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks what landed in the emulator's table against fake-sensord's journal.

usage: check-table.py DB N JOURNAL_ID_HEX [--values] [--at-least] [--device NAME]
                      [--missing FROM-TO]... [--channel NAME] [--shared]

Asserts that the rows of journal JOURNAL_ID are exactly seqs 1..N (less the
--missing ranges: seqs the journal did not hold), each once,
committed in seq order (--at-least: seqs 1..M for some M >= N, for a check
while records are still being committed); with --values also that every column equals what
fake-sensord's make_record() puts in record seq (record() below: the same
formulas, kept in step with tests/streamerd/fake-sensord.c), including the
nulls. --device: every row's HOSTNAME is NAME. --channel: every row came
through channel NAME. --shared: the table holds other journals' rows too
(a fleet's devices share it), which are not this check's business.
tests/integration/sensortap/basics.sh imports record() too.
Exit 0 when all holds, 1 with the first differences otherwise.
"""
import json
import math
import re
import sqlite3
import sys
import time

T0_NS = 1764000000000000000


def record(seq, device="fake-pi"):
    """Record seq as fake-sensord's make_record() builds it, with the keys and
    nulls of docs/schema.md (what sensortap prints)."""
    t = T0_NS + seq * 5000000000 + (seq % 1000) * 1000000
    return {
        "seq": seq, "t": t, "boot_ns": 1000000000 + seq * 5000000000,
        "synced": seq % 7 != 0, "device": device,
        "scd4x": {"co2": 400 + seq % 1000, "t": 20.0 + (seq % 100) / 8.0,
                  "rh": 40.0 + (seq % 50) / 4.0, "t_meas": t} if seq % 3 != 0 else None,
        "sgp30": {"eco2": 400 + seq % 300, "tvoc": seq % 200, "t_meas": t,
                  "warmup": seq < 3, "baseline_ok": seq % 2 == 0} if seq % 5 != 0 else None,
        "icp10125": {"p": 100000.0 + (seq % 2000) / 4.0, "t": 21.0 + (seq % 40) / 16.0,
                     "t_meas": t} if seq % 11 != 0 else None,
        "sys": {"cpu_t": 45.0 + (seq % 20) / 2.0 if seq % 13 != 0 else None,
                "cpu": (seq % 100) / 4.0, "mem": 33.5,
                "disk_free_mb": 2048 + seq % 10 if seq % 17 != 0 else None},
        "faults": ['scd4x: crc error on read "measurement"'] if seq % 4 == 0 else [],
    }


def expected(seq, device):
    """The row streamerd makes of record(seq), and what its RAW_DATA holds."""
    r = record(seq, device)
    scd, sgp, icp, sy = r["scd4x"], r["sgp30"], r["icp10125"], r["sys"]
    iaq = sgp is not None and not sgp["warmup"]
    t = r["t"]
    secs = t // 1000000000
    tm = time.gmtime(secs)
    e = {
        "HOSTNAME": device,
        "TEMPERATURE": scd["t"] if scd else None,
        "HUMIDITY": scd["rh"] if scd else None,
        "CO2": float(scd["co2"]) if scd else None,
        "EQUIVALENTCO2PPM": float(sgp["eco2"]) if iaq else None,
        "TOTALVOCPPB": float(sgp["tvoc"]) if iaq else None,
        "PRESSURE": icp["p"] if icp else None,
        "TEMPERATUREICP": icp["t"] * 9 / 5 + 32 if icp else None,
        "CPUTEMPF": math.floor(sy["cpu_t"] * 9 / 5 + 32 + 0.5) if sy["cpu_t"] is not None else None,
        "CPU": sy["cpu"],
        "MEMORY": sy["mem"],
        "DISKUSAGE": "%d MB" % sy["disk_free_mb"] if sy["disk_free_mb"] is not None else None,
        "RUNTIME": r["boot_ns"] // 1000000000,
        "TS": secs,
        "SYSTEMTIME": time.strftime("%m/%d/%Y %H:%M:%S", tm),
        "STARTTIME": time.strftime("%m/%d/%Y %H:%M:%S", tm),
        "ENDTIME": str(secs),
        "DATETIMESTAMP": time.strftime("%Y-%m-%d %H:%M:%S", tm) + ".%03d" % ((t // 1000000) % 1000),
    }
    raw = {
        "seq": seq, "device": device, "synced": r["synced"],
        "sgp30_warmup": sgp["warmup"] if sgp else None,
        "sgp30_baseline_ok": sgp["baseline_ok"] if sgp else None,
        "faults": r["faults"],
        "t_ns": t,
    }
    return e, raw


TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+")


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and isinstance(b, str) and TIMESTAMP.fullmatch(a) and TIMESTAMP.fullmatch(b):
        # a TIMESTAMP column keeps the digits its precision allows (the
        # emulator's strict ts_micros: 6), so .016 and .016000 are one value
        return a.rstrip("0").rstrip(".") == b.rstrip("0").rstrip(".")
    if isinstance(b, float) or isinstance(a, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def main():
    db, n, jid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    values = "--values" in sys.argv
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "fake-pi"
    channel = sys.argv[sys.argv.index("--channel") + 1] if "--channel" in sys.argv else None
    missing = set()
    for i, a in enumerate(sys.argv):
        if a == "--missing":
            lo, hi = (int(x) for x in sys.argv[i + 1].split("-"))
            missing |= set(range(lo, hi + 1))
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT oid AS _n, * FROM THERMAL_SENSOR_DATA ORDER BY oid").fetchall()
    mine = [r for r in rows if (r["ROWID"] or "").startswith(jid + "-")]
    seqs = [int(r["ROWID"].split("-")[1]) for r in mine]
    if "--at-least" in sys.argv:
        # from the rows just read: a second read could see a batch more
        n = max(n, max(seqs, default=0))
    want = [s for s in range(1, n + 1) if s not in missing]
    errs = []
    if len(rows) != len(mine) and "--shared" not in sys.argv:
        errs.append("%d row(s) not from journal %s" % (len(rows) - len(mine), jid))
    if sorted(seqs) != want:
        dup = sorted({s for s in seqs if seqs.count(s) > 1}) if len(seqs) < 200000 else []
        lost = sorted(set(want) - set(seqs))
        extra = sorted(s for s in set(seqs) if s > n or s in missing)
        errs.append("expected seqs 1..%d once each (%d not journaled); got %d rows, %d distinct, "
                    "duplicates %s, missing %s, not journaled or beyond %s"
                    % (n, len(missing), len(seqs), len(set(seqs)), dup[:10], lost[:10], extra[:10]))
    if any(b <= a for a, b in zip(seqs, seqs[1:])):
        i = next(i for i, (a, b) in enumerate(zip(seqs, seqs[1:])) if b <= a)
        errs.append("not committed in seq order: seq %d after %d" % (seqs[i + 1], seqs[i]))
    if "--device" in sys.argv:
        other = [r["HOSTNAME"] for r in mine if r["HOSTNAME"] != device]
        if other:
            errs.append("%d row(s) with HOSTNAME other than %s, e.g. %r" % (len(other), device, other[0]))
    if channel is not None:
        other = [r["CHANNEL"] for r in mine if (r["CHANNEL"] or "").upper() != channel.upper()]
        if other:
            errs.append("%d row(s) not from channel %s, e.g. %r" % (len(other), channel, other[0]))
    if values:
        for r in mine:
            seq = int(r["ROWID"].split("-")[1])
            e, raw = expected(seq, device)
            for k, v in e.items():
                if not same(r[k], v):
                    errs.append("seq %d %s: %r != expected %r" % (seq, k, r[k], v))
            for k in ("UUID", "HOST", "TE", "RAW_DATA"):
                if r[k] is None:
                    errs.append("seq %d %s is null" % (seq, k))
            if len(r["UUID"] or "") != 36:
                errs.append("seq %d UUID %r" % (seq, r["UUID"]))
            try:
                float(r["TE"])
            except (TypeError, ValueError):
                errs.append("seq %d TE %r is not seconds" % (seq, r["TE"]))
            rd = json.loads(r["RAW_DATA"])
            for k, v in raw.items():
                if rd.get(k, "absent") != v:
                    errs.append("seq %d RAW_DATA.%s: %r != expected %r" % (seq, k, rd.get(k, "absent"), v))
            if rd.get("journal_id") != jid or rd.get("rowid") != r["ROWID"]:
                errs.append("seq %d RAW_DATA journal_id/rowid wrong" % seq)
            if len(errs) > 20:
                break
    for m in errs[:20]:
        print("check-table.py:", m)
    if not errs:
        print("check-table.py: %d rows, seqs 1..%d exactly once, in order%s%s" %
              (len(mine), n, " (less %d not journaled)" % len(missing) if missing else "",
               ", values as journaled" if values else ""))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
