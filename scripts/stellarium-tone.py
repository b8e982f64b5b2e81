#!/usr/bin/env python3
"""Luminance quantiles of the Stellarium deep-sky set: outreach (train split) vs survey images.

Evidence for issue #11's "mean change" goal: if outreach images were brighter or more stretched
than survey images, a survey → outreach model should change the tone. Each image is resized to
256×256 grey by ffmpeg (BT.601 luma, 0–255); the table gives the median over images of each
quantile and of the mean. Needs ffmpeg and numpy.

    scripts/stellarium-tone.py [STELLARIUM_DIR]
    (default: $HOME/.cache/prettier-space/stellarium, as datasets/stellarium/fetch.sh writes it)
"""
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
cache = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/prettier-space/stellarium")
images = os.path.join(cache, "root/usr/share/stellarium/nebulae/default")
QS = [10, 25, 50, 75, 90, 95, 99]


def luma(name):
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", os.path.join(images, name),
         "-vf", "scale=256:256,format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).astype(float)


def rows(path):
    with open(os.path.join(ROOT, path)) as f:
        return [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]


outreach = [r[0] for r in rows("datasets/stellarium/outreach-train.txt")]
survey = rows("datasets/stellarium/survey-images.txt")
print("| images | n | mean | " + " | ".join(f"p{q}" for q in QS) + " |")
print("|---|---|---|" + "---|" * len(QS))
for label, names in [("outreach, train split", outreach),
                     ("DSS", [r[0] for r in survey if r[1] == "DSS"]),
                     ("SDSS, 2MASS, PS1", [r[0] for r in survey if r[1] != "DSS"])]:
    ls = [luma(n) for n in names]
    q = np.median([np.percentile(l, QS) for l in ls], axis=0)
    m = np.median([l.mean() for l in ls])
    print(f"| {label} | {len(ls)} | {m:.1f} | " + " | ".join(f"{v:.1f}" for v in q) + " |")
