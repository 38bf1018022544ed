#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Compares what a subscriber saw before a power cut with a replay after it.

usage: powercut-check.py MODE SEEN_AT_CUT SEEN_ALL REPLAY REPLAY_ERR SKIP

SEEN_AT_CUT and SEEN_ALL are sensortap's output (one JSON record per line)
copied at the cut and when the subscriber was stopped; REPLAY is sensortap
--from oldest against the recovered journal and REPLAY_ERR its stderr (gap
notices); SKIP is "A B" when the restarted sensord logged that it skipped
seqs A..B, else empty. Used by powercut.sh.

Asserts, for every mode: no seq seen before the cut names a different
record in the replay (none handed out twice); the replay's seqs only go up;
a seen seq missing from the replay lies in a gap the replay reported, and
when sensord logged a skip the replay reported exactly that range as a gap.
For "always" also: nothing seen is lost and nothing is skipped. Prints
"lost=N lost_at_cut=M seen=S" and exits 0, or prints what failed, exit 1.
"""
import json
import re
import sys


def records(path):
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.endswith("\n"):
                break   # copied while sensortap was writing it
            out[json.loads(line)["seq"]] = line
    return out


def main():
    mode, at_cut, seen_all, replay_path, err_path, skip = sys.argv[1:7]
    cut, seen, errs = records(at_cut), records(seen_all), []
    replay_seqs = []
    replay = {}
    with open(replay_path, encoding="utf-8") as f:
        for line in f:
            seq = json.loads(line)["seq"]
            replay_seqs.append(seq)
            replay[seq] = line
    gaps = [(int(a), int(b)) for a, b in
            re.findall(r"gap: records (\d+)\.\.(\d+)", open(err_path, encoding="utf-8").read())]
    if any(b <= a for a, b in zip(replay_seqs, replay_seqs[1:])):
        errs.append("replay seqs do not only go up")
    for seq in sorted(seen):
        if seq in replay and replay[seq] != seen[seq]:
            errs.append("seq %d handed out twice: seen before the cut as %s and after it as %s"
                        % (seq, seen[seq].strip()[:160], replay[seq].strip()[:160]))
        elif seq not in replay and not any(a <= seq <= b for a, b in gaps):
            errs.append("seq %d seen before the cut is gone without a gap" % seq)
    lost = sorted(s for s in seen if s not in replay)
    lost_at_cut = [s for s in lost if s in cut]
    if skip:
        a, b = (int(x) for x in skip.split())
        if (a, b) not in gaps:
            errs.append("sensord skipped %d..%d but the replay reported gaps %s" % (a, b, gaps))
    elif lost:
        errs.append("seqs %d..%d lost but sensord logged no skip" % (lost[0], lost[-1]))
    if mode == "always":
        if lost:
            errs.append("fsync always lost %d seen record(s): %s" % (len(lost), lost[:10]))
        if skip or gaps:
            errs.append("fsync always skipped seqs: %s %s" % (skip, gaps))
    if not cut:
        errs.append("the subscriber saw nothing before the cut")
    for e in errs[:10]:
        print("powercut-check:", e)
    print("lost=%d lost_at_cut=%d seen=%d" % (len(lost), len(lost_at_cut), len(seen)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
