#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The documentation holds together: every relative link of README.md and
# docs/*.md names a file of the repository, every "docs/X.md §N" cited in
# any tracked file names a section X.md has, and the examples of the README
# and the man pages use only what `make deps` or the package installs
# (no jq).
set -u
. "$TOP/tests/lib/harness.sh"
need_cmd git python3
cd "$TOP" || fail "cd $TOP"

python3 - <<'PY' || fail "documentation links or section citations are broken (above)"
import os
import re
import subprocess
import sys

bad = []
files = subprocess.run(["git", "ls-files"], capture_output=True, text=True,
                       check=True).stdout.split()

# Relative links in the Markdown pages.
for md in ["README.md"] + sorted(f for f in files if re.match(r"docs/[^/]+\.md$", f)):
    text = open(md, encoding="utf-8").read()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path = os.path.normpath(os.path.join(os.path.dirname(md), target))
        if not os.path.exists(path):
            bad.append(f"{md}: link to {target}: no such file")

# Section numbers: "docs/chips.md §4.4", "§2.2–2.6" ranges and the "§6" that
# follows in the same sentence are checked against the headings.
sections = {}
for md in files:
    if re.match(r"docs/[^/]+\.md$", md):
        heads = re.findall(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", open(md, encoding="utf-8").read(),
                           re.M)
        sections[md] = set(heads)
cite = re.compile(r"(docs/[a-z-]+\.md)((?:[ ,]*(?:and )?§\d+(?:\.\d+)?(?:[–-]\d+(?:\.\d+)?)?)+)")
for f in files:
    try:
        text = open(f, encoding="utf-8").read()
    except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
        continue
    for doc, refs in cite.findall(text.replace("\n", " ").replace(" * ", " ")):
        for ref in re.findall(r"§(\d+(?:\.\d+)?)(?:[–-](\d+(?:\.\d+)?))?", refs):
            for n in ref:
                if n and n not in sections.get(doc, set()):
                    bad.append(f"{f}: cites {doc} §{n}, which has no such section")

for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY

hits=$(grep -nwE 'jq' README.md man/*.in) && fail "examples use jq, which neither make deps nor the package installs:
$hits"
echo "docs: links resolve, section citations exist, no jq in the examples"
