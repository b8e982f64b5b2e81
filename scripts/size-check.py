#!/usr/bin/env python3
"""File sizes (issue #28's "rules that hold by themselves"): no Rust source file over 700 lines
outside `tests/` and `fixtures/` folders, and no `bins/*/src/main.rs` over 200 (binaries stay thin:
their logic lives in the libraries).

Checks the files git tracks plus new ones it does not ignore (so a local run sees them before
they are committed). Prints each offending file with its line count and the limit, and exits 1
if there is any.  Usage: scripts/size-check.py [REPO]
"""
import os
import subprocess
import sys

LIMIT = 700
MAIN_LIMIT = 200
EXEMPT_DIRS = {"tests", "fixtures"}

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
files = subprocess.run(
    ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.rs"],
    check=True,
    capture_output=True,
).stdout.decode().split("\0")

bad = 0
for rel in sorted(set(f for f in files if f)):
    path = os.path.join(root, rel)
    if not os.path.isfile(path):  # deleted in the work tree
        continue
    parts = rel.split("/")
    if EXEMPT_DIRS.intersection(parts[:-1]):
        continue
    with open(path, "rb") as f:
        lines = sum(1 for _ in f)
    is_main = len(parts) == 4 and parts[0] == "bins" and parts[2:] == ["src", "main.rs"]
    limit = MAIN_LIMIT if is_main else LIMIT
    if lines > limit:
        bad += 1
        what = "binary main.rs" if is_main else "file"
        print(f"{rel}: {lines} lines ({what} limit {limit})")
print(f"{bad} file(s) over the size limits")
sys.exit(1 if bad else 0)
