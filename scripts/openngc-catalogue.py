#!/usr/bin/env python3
"""Build crates/sky-geometry/data/openngc.csv, the bundled deep-sky catalogue, from OpenNGC.

OpenNGC (Mattia Verga, CC-BY-SA-4.0, https://github.com/mattiaverga/OpenNGC) ships
database_files/NGC.csv and database_files/addendum.csv. This keeps, per object with coordinates:
name, Messier number, type code, RA and Dec in degrees (6 decimals), major axis in arcmin,
common names, and the names of OpenNGC's "Dup" rows that point at it (aliases). Rows without
coordinates, "NonEx" (non-existent) rows and "Dup" rows themselves are dropped; every other
column (magnitudes, redshifts, notes, ...) is left out.

    scripts/openngc-catalogue.py OPENNGC_GIT_DIR [COMMIT]
    e.g. scripts/openngc-catalogue.py /work/.mirror/mattiaverga+OpenNGC/repo HEAD

reads the two files from COMMIT (default HEAD) with `git show`, so a bare mirror is enough.
"""
import csv
import io
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "sky-geometry", "data", "openngc.csv")
FILES = ["database_files/NGC.csv", "database_files/addendum.csv"]


def git(git_dir, *args):
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True,
                          capture_output=True, text=True).stdout


def sexagesimal(text, hours):
    """'13:29:52.71' (hours) or '+47:11:42.6' (degrees) -> degrees."""
    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    parts = [float(p) for p in text.lstrip("+-").split(":")]
    value = parts[0] + parts[1] / 60.0 + (parts[2] if len(parts) > 2 else 0.0) / 3600.0
    return sign * value * (15.0 if hours else 1.0)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    git_dir = sys.argv[1]
    commit = git(git_dir, "rev-parse", sys.argv[2] if len(sys.argv) == 3 else "HEAD").strip()

    rows = []
    for path in FILES:
        text = git(git_dir, "show", f"{commit}:{path}")
        rows.extend(csv.DictReader(io.StringIO(text), delimiter=";"))

    kept, dups, by_name, by_messier = [], [], {}, {}
    skipped = {"no coordinates": 0, "NonEx": 0}
    for r in rows:
        name, kind = r["Name"].strip(), r["Type"].strip()
        if kind == "Dup":
            dups.append(r)
            continue
        if not r["RA"].strip() or not r["Dec"].strip():
            skipped["no coordinates"] += 1
            continue
        if kind == "NonEx":
            skipped["NonEx"] += 1
            continue
        for field in ("Name", "Type", "Common names"):
            if ";" in r[field] or "\n" in r[field]:
                sys.exit(f"{name}: unexpected ';' or newline in {field}")
        majax = r["MajAx"].strip()
        obj = {
            "name": name,
            "messier": str(int(r["M"])) if r["M"].strip() else "",
            "type": kind,
            "ra": f"{sexagesimal(r['RA'], True):.6f}",
            "dec": f"{sexagesimal(r['Dec'], False):.6f}",
            "majax": f"{float(majax):g}" if majax else "",
            "common": ",".join(n.strip() for n in r["Common names"].split(",") if n.strip()),
            "aliases": [],
        }
        if name in by_name:
            sys.exit(f"duplicate name {name}")
        by_name[name] = obj
        if obj["messier"]:
            by_messier[obj["messier"]] = obj
        kept.append(obj)

    # A "Dup" row names the object it duplicates in its M, NGC or IC column (in that order).
    unresolved = []
    for r in dups:
        target = None
        if r["M"].strip():
            target = by_messier.get(str(int(r["M"])))
        if target is None and r["NGC"].strip():
            target = by_name.get("NGC" + r["NGC"].strip())
        if target is None and r["IC"].strip():
            target = by_name.get("IC" + r["IC"].strip())
        if target is None:
            unresolved.append(r["Name"])
        else:
            target["aliases"].append(r["Name"].strip())

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(
            "# Deep-sky objects from OpenNGC by Mattia Verga, https://github.com/mattiaverga/OpenNGC\n"
            "# Licence: CC-BY-SA-4.0 (https://creativecommons.org/licenses/by-sa/4.0/); this file is an\n"
            "# adaptation (subset of columns, coordinates in degrees) under the same licence.\n"
            f"# Source: database_files/NGC.csv + database_files/addendum.csv at commit {commit}\n"
            "# Regenerate: scripts/openngc-catalogue.py /work/.mirror/mattiaverga+OpenNGC/repo "
            f"{commit}\n"
            "# Columns (';'-separated): name;messier;type;ra_deg;dec_deg;major_axis_arcmin;"
            "common_names;aliases\n"
            "# common_names and aliases (OpenNGC 'Dup' rows naming this object) are ','-separated.\n"
        )
        for o in kept:
            f.write(";".join([o["name"], o["messier"], o["type"], o["ra"], o["dec"], o["majax"],
                              o["common"], ",".join(o["aliases"])]) + "\n")

    print(f"{commit}: {len(kept)} objects, {sum(len(o['aliases']) for o in kept)} aliases "
          f"from {len(dups)} Dup rows ({len(unresolved)} unresolved: {' '.join(unresolved)}); "
          f"skipped {skipped}; {os.path.getsize(OUT)} bytes -> {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
