#!/usr/bin/env python3
"""Import cycles between the top-level modules of each crate (issue #13's "no import cycles").

For every crate under crates/ and bins/, a module is a top-level file `src/x.rs` or folder
`src/x/`; module A depends on B when A's non-test code names `crate::B` (or `crate::{…B…}`).
lib.rs is left out (it declares every module). Prints each strongly connected component of two
or more modules and exits 1 if there is any.  Usage: scripts/module-cycles.py [REPO]
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
TESTS = re.compile(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", re.S)
found = 0
for base in ("crates", "bins"):
    for crate in sorted(os.listdir(os.path.join(root, base))):
        src = os.path.join(root, base, crate, "src")
        if not os.path.isdir(src):
            continue
        mods = {}
        for f in os.listdir(src):
            p = os.path.join(src, f)
            if f.endswith(".rs") and f not in ("lib.rs", "main.rs"):
                mods.setdefault(f[:-3], []).append(p)
            elif os.path.isdir(p) and f != "bin":
                for dp, _, fs in os.walk(p):
                    mods.setdefault(f, []).extend(os.path.join(dp, x) for x in fs if x.endswith(".rs"))
        edges = {m: set() for m in mods}
        for m, files in mods.items():
            for p in files:
                text = TESTS.sub("", open(p, encoding="utf-8").read())
                names = re.findall(r"crate::(\w+)", text)
                for group in re.findall(r"crate::\{([^}]*)\}", text):
                    names += re.findall(r"(\w+)", group)
                edges[m].update(n for n in names if n in mods and n != m)
        # Tarjan's strongly connected components.
        index, low, stack, on, counter = {}, {}, [], set(), [0]

        def visit(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in edges[v]:
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    global found
                    found += 1
                    print(f"{crate}: cycle among {sorted(comp)}")

        for v in mods:
            if v not in index:
                visit(v)
print(f"{found} module cycle(s)")
sys.exit(1 if found else 0)
