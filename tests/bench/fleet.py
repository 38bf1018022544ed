#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fleet.py: the numbers of a fleet run (tests/bench/fleet.sh), from outside.

  fleet.py sample PIDS OUT
      PIDS: lines "DEVICE ROLE PID"; OUT: JSON {"ROLE DEVICE": sample}, each
      sample CPU seconds, RSS, peak RSS and context switches from /proc, and
      the process's comm (so a wrapper that forked instead of exec'ing shows).
  fleet.py report --devices F --s0 F --s1 F --stats0 F --stats1 F --stats-end F
                  --db F --emu-log F --window S --started S --limits F --out F
      Gathers the audit of the emulator's table device by device
      (tests/lib/check-table.py's verdict, run by fleet.sh: every journaled
      seq once, in order, on the device's channel) and counts the rows of
      no device's journal; sums the per-process samples into per-device CPU and RSS, reads the
      emulator's request log for each channel's requests per second and its
      429/413 answers, and both daemons' metrics files for row sizes; writes
      one JSON document and prints a summary. Exit 1 when a device's rows
      are not exactly its journal.
"""

import argparse
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snowlab  # noqa: E402


def sample_one(pid):
    """snowlab's /proc sample of PID, CPU as one number, and its comm."""
    out = snowlab.proc_sample(pid)
    out["cpu_s"] = out["utime"] + out["stime"]
    with open("/proc/%d/comm" % pid) as f:
        out["comm"] = f.read().strip()
    return out


def cmd_sample(args):
    res = {}
    with open(args.pids) as f:
        for line in f:
            dev, role, pid = line.split()
            try:
                res["%s %s" % (role, dev)] = sample_one(int(pid))
            except (OSError, ValueError, IndexError):
                res["%s %s" % (role, dev)] = None	# gone: the report says which
    with open(args.out, "w") as f:
        json.dump(res, f)
    return 0


def load(path):
    with open(path) as f:
        return json.load(f)


def prom(path):
    """name -> value of a metrics file's unlabelled (but for device) samples."""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                name, _, val = line.rpartition(" ")
                out[name.split("{")[0]] = float(val)
    except OSError:
        pass
    return out


def stat(vals):
    if not vals:
        return {"n": 0, "mean": None, "max": None}
    return {"n": len(vals), "mean": round(sum(vals) / len(vals), 2), "max": round(max(vals), 2)}


# ------------------------------------------------------------------ the table
def audit(db, devices):
    """Each device's verdict from tests/lib/check-table.py (run by fleet.sh:
    seqs 1..last once each, in order, with the device's HOSTNAME and on its
    channel) and its row count; plus the rows of no device's journal."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    by_jid = dict(con.execute("SELECT substr(ROWID, 1, instr(ROWID, '-') - 1) AS j, count(*) "
                              "FROM THERMAL_SENSOR_DATA GROUP BY j").fetchall())
    con.close()
    per = []
    for d in devices:
        r = {"device": d["device"], "channel": d["channel"], "journal": d["jid"],
             "journaled": d["last_seq"], "acked": d["acked_seq"],
             "rows": by_jid.get(d["jid"], 0), "check_table": d["check"]}
        r["ok"] = d["last_seq"] > 0 and d["check"] == "ok" and d["acked_seq"] == d["last_seq"]
        if not r["ok"]:
            with open(d["check_out"], errors="replace") as f:
                r["check_table_says"] = f.read().strip()[-2000:]
        per.append(r)
    known = {d["jid"] for d in devices}
    foreign = sum(n for j, n in by_jid.items() if j not in known)
    return per, foreign, sum(by_jid.values())


# ------------------------------------------------------------------ the emulator's log
# The debug line of every request: "<ISO time>Z snowpipe-emu[debug] METHOD PATH -> STATUS".
REQ_RX = re.compile(r"^\d{4}-\d\d-\d\dT(\d\d):(\d\d):(\d\d\.\d+)Z .*\] (PUT|POST|DELETE|GET) "
                    r"(\S+) -> (\d+)")
CHAN_RX = re.compile(r"/channels/([^/?]+)(/rows)?$")
# and of every append it decoded: "channel C: append of N bytes, M on the wire, ..."
SIZE_RX = re.compile(r"\] channel \S+: append of (\d+) bytes, (\d+) on the wire")


def channel_rates(path):
    """Per channel (the requests the service limits per channel: open,
    append, drop): count, the most in any one-second window, and the 429
    and 413 answers; plus the bulk status calls, which name no channel."""
    times, codes, status_calls, sizes = {}, {}, 0, []
    with open(path, errors="replace") as f:
        for line in f:
            z = SIZE_RX.search(line)
            if z:
                sizes.append((int(z.group(1)), int(z.group(2))))
                continue
            m = REQ_RX.search(line)
            if not m:
                continue
            h, mi, s, _method, path_, code = m.groups()
            if path_.endswith(":bulk-channel-status"):
                status_calls += 1
                continue
            c = CHAN_RX.search(path_)
            if not c:
                continue
            ch = c.group(1).upper()
            t = int(h) * 3600 + int(mi) * 60 + float(s)
            times.setdefault(ch, []).append(t)
            codes.setdefault(ch, {}).setdefault(code, 0)
            codes[ch][code] += 1
    per = {}
    for ch, ts in times.items():
        ts.sort()
        peak, j = 0, 0
        for i, t in enumerate(ts):	# the most requests within [t - 1 s, t]
            if t < ts[j]:	# the log crossed midnight: start the window again
                j = i
            while ts[j] <= t - 1.0:
                j += 1
            peak = max(peak, i - j + 1)
        per[ch] = {"requests": len(ts), "peak_per_s": peak,
                   "http_429": codes[ch].get("429", 0), "http_413": codes[ch].get("413", 0)}
    return per, status_calls, sizes


def one_row_appends(sizes, raw_per_row):
    """Appends that carried one row (NDJSON under 1.5 rows long): their mean
    NDJSON and wire bytes, what a device sending a record every 5 s sends."""
    one = [(r, w) for r, w in sizes if raw_per_row and r < 1.5 * raw_per_row]
    if not one:
        return None
    raw, wire = sum(r for r, _ in one) / len(one), sum(w for _, w in one) / len(one)
    return {"appends": len(one), "raw_bytes": round(raw, 1), "wire_bytes": round(wire, 1),
            "ratio": round(raw / wire, 3)}


def delta_routes(a, b):
    out = {}
    for route, by in (b.get("requests") or {}).items():
        for code, n in by.items():
            d = n - ((a.get("requests") or {}).get(route) or {}).get(code, 0)
            if d:
                out.setdefault(route, {})[code] = d
    return out


# ------------------------------------------------------------------ report
def cmd_report(args):
    devices = []
    with open(args.devices) as f:
        for line in f:
            dev, chan, jid, last, acked, check, check_out, smetrics, slog = line.split()
            devices.append({"device": dev, "channel": chan, "jid": jid, "last_seq": int(last),
                            "acked_seq": int(acked), "check": check, "check_out": check_out,
                            "metrics": smetrics, "log": slog})
    s0, s1 = load(args.s0), load(args.s1)
    st0, st1, st_end = load(args.stats0), load(args.stats1), load(args.stats_end)
    limits = load(args.limits)
    w = args.window
    res = {"devices": len(devices), "window_s": round(w, 1), "start_s": round(args.started, 1),
           "interval_ms": args.interval_ms, "limits": limits}

    # exactly once
    per, foreign, total = audit(args.db, devices)
    bad = [r for r in per if not r["ok"]]
    res["exactly_once"] = {
        "devices_ok": len(per) - len(bad), "rows": total, "foreign_rows": foreign,
        "journaled": sum(d["last_seq"] for d in devices),
        "failed": bad[:10], "min_journaled": min((d["last_seq"] for d in devices), default=0),
        "per_device": [[r["device"], r["journaled"], r["rows"], r["ok"]] for r in per]}

    # CPU and RSS per device, each daemon apart
    gone = []
    for role in ("sensord", "streamerd"):
        cpu, rss, hwm, wake, comm = [], [], [], [], set()
        for d in devices:
            k = "%s %s" % (role, d["device"])
            a, b = s0.get(k), s1.get(k)
            if a is None or b is None:
                gone.append(k)
                continue
            cpu.append((b["cpu_s"] - a["cpu_s"]) * 3600.0 / w)
            rss.append(b["rss_kib"])
            hwm.append(b["hwm_kib"])
            wake.append((b["vcsw"] - a["vcsw"]) / w)
            comm.add(b["comm"])
        res[role] = {"cpu_s_per_h": stat(cpu), "rss_kib": stat(rss), "hwm_kib": stat(hwm),
                     "wakeups_per_s": stat(wake), "comm": sorted(comm),
                     "cpu_pct_sum": round(sum(cpu) / 36.0, 2)}
    e0, e1 = s0.get("emu -"), s1.get("emu -")
    if e0 and e1:
        res["emulator"] = {"cpu_pct": round(100.0 * (e1["cpu_s"] - e0["cpu_s"]) / w, 2),
                           "rss_kib": e1["rss_kib"]}
    res["gone"] = gone

    # the service's side: requests, limits
    chans, status_calls, sizes = channel_rates(args.emu_log)
    hit = sorted(ch for ch, c in chans.items() if c["http_429"] or c["http_413"])
    warn429 = {}
    for d in devices:
        try:
            with open(d["log"], errors="replace") as f:
                n = sum(1 for line in f if "HTTP 429" in line)
        except OSError:
            n = 0
        if n:
            warn429[d["device"]] = n
    peak_ch = max(chans, key=lambda c: chans[c]["peak_per_s"]) if chans else None
    res["limits_seen"] = {
        "channels_open": st_end.get("channels"),
        "channels_in_log": len(chans),
        "peak_requests_per_s_one_channel": chans[peak_ch]["peak_per_s"] if peak_ch else None,
        "peak_channel": peak_ch,
        "channels_hitting_a_limit": hit,
        "http_429": sum(c["http_429"] for c in chans.values()),
        "http_413": sum(c["http_413"] for c in chans.values()),
        "streamerd_429_warnings": warn429,
        "requests_end": st_end.get("requests"),
        "bulk_status_calls": status_calls,
        "pending_bytes_end": st_end.get("pending_bytes"),
    }

    # the wire: what a row costs, measured over the window
    win = delta_routes(st0, st1)
    appends = win.get("append", {}).get("200", 0)
    statuses = sum(win.get("status", {}).values())
    others = sum(n for route, by in win.items() if route not in ("append", "status", "control")
                 for n in by.values())
    m = {"rows": 0, "batches": 0, "raw": 0, "wire": 0, "requests": 0}
    for d in devices:
        p = prom(d["metrics"])
        m["rows"] += p.get("streamerd_rows_appended_total", 0)
        m["batches"] += p.get("streamerd_batches_appended_total", 0)
        m["raw"] += p.get("streamerd_appended_raw_bytes_total", 0)
        m["wire"] += p.get("streamerd_appended_wire_bytes_total", 0)
        m["requests"] += p.get("streamerd_requests_total", 0)
    rows_win = st1.get("rows_appended", 0) - st0.get("rows_appended", 0)
    res["wire"] = {
        "rows_in_window": rows_win,
        "appends_in_window": appends,
        "appends_per_channel_per_s": round(appends / len(devices) / w, 3) if devices else None,
        "rows_per_append": round(rows_win / appends, 3) if appends else None,
        "status_calls_in_window": statuses,
        "status_per_append": round(statuses / appends, 3) if appends else None,
        "other_requests_in_window": others,
        "requests_per_s": round((appends + statuses + others) / w, 2),
        "bytes_received_per_s": round((st1.get("bytes_received", 0) -
                                       st0.get("bytes_received", 0)) / w),
        # what the window's request bodies held beyond its appends (at the
        # run's mean append size), per status call: the bulk status body
        "status_body_bytes": round((st1.get("bytes_received", 0) - st0.get("bytes_received", 0) -
                                    appends * m["wire"] / m["batches"]) / statuses, 1)
        if statuses and m["batches"] else None,
        "raw_bytes_per_row": round(m["raw"] / m["rows"], 1) if m["rows"] else None,
        "wire_bytes_per_append": round(m["wire"] / m["batches"], 1) if m["batches"] else None,
        "compression_ratio": round(m["raw"] / m["wire"], 3) if m["wire"] else None,
        "one_row_appends": one_row_appends(sizes, m["raw"] / m["rows"] if m["rows"] else 0),
        "streamerd_totals": m,
    }
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    eo = res["exactly_once"]
    print("fleet: %d devices, %d/%d exactly once (%d rows of %d journaled, %d of no device's "
          "journal)" % (len(devices), eo["devices_ok"], len(devices), eo["rows"], eo["journaled"],
                        foreign))
    for r in bad[:10]:
        print("fleet: %s" % json.dumps(r))
    if gone:
        print("fleet: processes gone before the window ended: %s" % ", ".join(gone))
    return 1 if bad or foreign or gone or not devices else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("sample")
    a.add_argument("pids")
    a.add_argument("out")
    b = sub.add_parser("report")
    for k in ("devices", "s0", "s1", "stats0", "stats1", "stats-end", "db", "emu-log",
              "limits", "out"):
        b.add_argument("--" + k, required=True)
    b.add_argument("--window", type=float, required=True)
    b.add_argument("--started", type=float, required=True)
    b.add_argument("--interval-ms", type=int, required=True)
    args = ap.parse_args()
    return cmd_sample(args) if args.cmd == "sample" else cmd_report(args)


if __name__ == "__main__":
    sys.exit(main())
