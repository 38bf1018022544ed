#!/usr/bin/env python3
"""Checks what landed in the emulator's table against fake-sensord's journal.

usage: check.py DB N JOURNAL_ID_HEX [--values] [--at-least] [--device NAME]
                [--missing FROM-TO]...

Asserts that the rows of journal JOURNAL_ID are exactly seqs 1..N (less the
--missing ranges: seqs the journal did not hold), each once,
committed in seq order (--at-least: seqs 1..M for some M >= N, for a check
while records are still being committed); with --values also that every column equals what
fake-sensord's make_record() puts in record seq (the same formulas, kept in
step with tests/streamerd/fake-sensord.c), including the nulls.
Exit 0 when all holds, 1 with the first differences otherwise.
"""
import json
import math
import sqlite3
import sys
import time

T0_NS = 1764000000000000000


def expected(seq, device):
    t = T0_NS + seq * 5000000000 + (seq % 1000) * 1000000
    has_scd, has_sgp, has_icp = seq % 3 != 0, seq % 5 != 0, seq % 11 != 0
    warm = seq < 3
    secs = t // 1000000000
    tm = time.gmtime(secs)
    cpu_t = 45.0 + (seq % 20) / 2.0
    e = {
        "HOSTNAME": device,
        "TEMPERATURE": 20.0 + (seq % 100) / 8.0 if has_scd else None,
        "HUMIDITY": 40.0 + (seq % 50) / 4.0 if has_scd else None,
        "CO2": float(400 + seq % 1000) if has_scd else None,
        "EQUIVALENTCO2PPM": float(400 + seq % 300) if has_sgp and not warm else None,
        "TOTALVOCPPB": float(seq % 200) if has_sgp and not warm else None,
        "PRESSURE": 100000.0 + (seq % 2000) / 4.0 if has_icp else None,
        "TEMPERATUREICP": (21.0 + (seq % 40) / 16.0) * 9 / 5 + 32 if has_icp else None,
        "CPUTEMPF": math.floor(cpu_t * 9 / 5 + 32 + 0.5) if seq % 13 != 0 else None,
        "CPU": (seq % 100) / 4.0,
        "MEMORY": 33.5,
        "DISKUSAGE": "%d MB" % (2048 + seq % 10) if seq % 17 != 0 else None,
        "RUNTIME": (1000000000 + seq * 5000000000) // 1000000000,
        "TS": secs,
        "SYSTEMTIME": time.strftime("%m/%d/%Y %H:%M:%S", tm),
        "STARTTIME": time.strftime("%m/%d/%Y %H:%M:%S", tm),
        "ENDTIME": str(secs),
        "DATETIMESTAMP": time.strftime("%Y-%m-%d %H:%M:%S", tm) + ".%03d" % ((t // 1000000) % 1000),
    }
    raw = {
        "seq": seq, "device": device, "synced": seq % 7 != 0,
        "sgp30_warmup": warm if has_sgp else None,
        "sgp30_baseline_ok": (seq % 2 == 0) if has_sgp else None,
        "faults": ['scd4x: crc error on read "measurement"'] if seq % 4 == 0 else [],
        "t_ns": t,
    }
    return e, raw


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(b, float) or isinstance(a, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def main():
    db, n, jid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    values = "--values" in sys.argv
    if "--at-least" in sys.argv:
        n = max(n, max((int(r.split("-")[1]) for (r,) in sqlite3.connect(db).execute(
            "SELECT ROWID FROM THERMAL_SENSOR_DATA") if (r or "").startswith(jid + "-")), default=0))
    device = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "fake-pi"
    missing = set()
    for i, a in enumerate(sys.argv):
        if a == "--missing":
            lo, hi = (int(x) for x in sys.argv[i + 1].split("-"))
            missing |= set(range(lo, hi + 1))
    want = [s for s in range(1, n + 1) if s not in missing]
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT oid AS _n, * FROM THERMAL_SENSOR_DATA ORDER BY oid").fetchall()
    mine = [r for r in rows if (r["ROWID"] or "").startswith(jid + "-")]
    seqs = [int(r["ROWID"].split("-")[1]) for r in mine]
    errs = []
    if len(rows) != len(mine):
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
        print("check.py:", m)
    if not errs:
        print("check.py: %d rows, seqs 1..%d exactly once, in order%s%s" %
              (len(mine), n, " (less %d not journaled)" % len(missing) if missing else "",
               ", values as journaled" if values else ""))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
