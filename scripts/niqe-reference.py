#!/usr/bin/env python3
"""Reference NIQE values for `astro_image::naturalness` (crates/astro-image/tests/niqe_reference.rs).

Runs scikit-video 1.1.11's `skvideo.measure.niqe` — the reference implementation (Mittal,
Soundararajan, Bovik 2013, with the LIVE pristine model) — on:

- the committed fixtures `crates/astro-image/tests/data/niqe/*.png` (8-bit grey; luma = the grey
  value 0-255). With `--make-fixtures` they are first cut from the held-out photograph
  astronaut.png (NASA, public domain): its centre 300×300 in BT.601 luma, that crop blurred
  (PIL bicubic ×1/4 then ×4 back) and that crop with Gaussian noise (σ = 12, seed 26);
- the 13 held-out photographs (`datasets/photos/fetch.sh`, `$PRETTIER_PHOTOS_DIR/test`), whole,
  on the luma `sr-eval` scores: RGB (grey expanded) → Y = 16 + (65.481 R + 128.553 G + 24.966 B)/255.

and writes `crates/astro-image/tests/data/niqe-reference.json`.

scikit-video 1.1.11 predates two removals, so two shims restore exactly what it ran on:
`np.int` (= int) and `scipy.misc.imresize(img, 0.5, interp='bicubic', mode='F')`, which was
(scipy ≤ 1.2) a float32 PIL image resized with PIL's BICUBIC filter; the shim is that code.

    python3 -m venv ~/.cache/prettier-space/venv-niqe
    ~/.cache/prettier-space/venv-niqe/bin/pip install scipy numpy pillow scikit-video==1.1.11
    ~/.cache/prettier-space/venv-niqe/bin/python scripts/niqe-reference.py [--make-fixtures]
"""
import glob
import json
import os
import sys

import numpy as np
import scipy.misc
from PIL import Image

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIXTURES = os.path.join(ROOT, "crates", "astro-image", "tests", "data", "niqe")
OUT = os.path.join(ROOT, "crates", "astro-image", "tests", "data", "niqe-reference.json")
PHOTOS = os.path.join(os.environ.get("PRETTIER_PHOTOS_DIR", os.path.expanduser("~/.cache/prettier-space/photos")), "test")

# --- shims for scikit-video 1.1.11 on today's numpy/scipy -------------------------------------
np.int = int


def _imresize(arr, size, interp="bilinear", mode=None):
    """scipy 1.2's scipy.misc.imresize for the call scikit-video makes (mode 'F', float size)."""
    assert mode == "F" and isinstance(size, float)
    data = np.asarray(arr).astype(np.float32)
    im = Image.frombytes("F", (data.shape[1], data.shape[0]), data.tobytes())
    new = tuple((np.array(im.size) * size).astype(int))
    resample = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "cubic": 3}[interp]
    out = im.resize(new, resample=resample)
    return np.asarray(out, dtype=np.float32).reshape(new[1], new[0])


scipy.misc.imresize = _imresize
import skvideo.measure  # noqa: E402  (after the shims)

assert skvideo.__version__ == "1.1.11", skvideo.__version__


def luma_rgb(path):
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    return 16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]


def grey(path):
    im = Image.open(path)
    assert im.mode == "L", (path, im.mode)
    return np.asarray(im, dtype=np.float64)


def niqe(y):
    return float(skvideo.measure.niqe(y)[0])


def save_grey(y, name):
    Image.fromarray(np.clip(np.round(y), 0, 255).astype(np.uint8), mode="L").save(os.path.join(FIXTURES, name))


def make_fixtures():
    os.makedirs(FIXTURES, exist_ok=True)
    y = luma_rgb(os.path.join(PHOTOS, "astronaut.png"))
    h, w = y.shape
    crop = np.round(y[(h - 300) // 2 : (h + 300) // 2, (w - 300) // 2 : (w + 300) // 2])
    save_grey(crop, "astronaut-crop.png")
    small = Image.fromarray(crop.astype(np.uint8), mode="L").resize((75, 75), Image.BICUBIC)
    save_grey(np.asarray(small.resize((300, 300), Image.BICUBIC), dtype=np.float64), "astronaut-crop-blurred.png")
    rng = np.random.default_rng(26)
    save_grey(crop + rng.normal(0.0, 12.0, crop.shape), "astronaut-crop-noisy.png")


def main():
    if "--make-fixtures" in sys.argv[1:]:
        make_fixtures()
    fixtures = {os.path.basename(p): niqe(grey(p)) for p in sorted(glob.glob(os.path.join(FIXTURES, "*.png")))}
    photos = {}
    for p in sorted(glob.glob(os.path.join(PHOTOS, "*"))):
        photos[os.path.basename(p)] = niqe(luma_rgb(p))
    assert len(fixtures) == 3 and len(photos) == 13, (fixtures, photos)
    doc = {
        "reference": "scikit-video 1.1.11 skvideo.measure.niqe (shims: np.int, scipy.misc.imresize as in scipy 1.2)",
        "script": "scripts/niqe-reference.py",
        "fixtures_luma": "8-bit grey value, 0-255",
        "photos_luma": "RGB (grey expanded), Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, whole image",
        "fixtures": fixtures,
        "photos": photos,
    }
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, OUT)
    for k, v in {**fixtures, **photos}.items():
        print(f"{k:24s} {v:.4f}")


if __name__ == "__main__":
    main()
