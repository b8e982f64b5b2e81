"""Reference training of the lightweight ×4 generator in PyTorch (a cross-check, not run in CI).

The same network as `sr_models::model::LightSr` (`--arch light-plain`: 3×3 convs, residual blocks
without an activation after the skip sum, sub-pixel tail, residual on a bicubic upsample), trained on
the same photographs with plain bicubic ×4 (PyTorch's antialiased bicubic, a = −0.5 as MATLAB) and
L1, no EMA; prints the held-out gain over bicubic every 500 steps (PyTorch's own bicubic here, so
use `torch_to_srmodel.py` and `sr-eval` for the project's figure). This is how the frozen-layer bug
of 2026-12-02 was found: this script reached +1.0 dB after 500 steps where `train-srgan` had +0.39.

    apt-get install python3-torch python3-pil
    OMP_NUM_THREADS=2 python3 benches/compare/light_sr_torch_train.py OUT.pt [STEPS] [LR] [FEATURES]
"""
import glob
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from light_sr_torch import LightSr

P = os.path.expanduser("~/.cache/prettier-space/photos")


def load(p):
    return torch.from_numpy(np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)


def down(x, s=4):
    lr = F.interpolate(x, scale_factor=1 / s, mode="bicubic", antialias=True, align_corners=False).clamp(0, 1)
    return (lr * 255).round() / 255


def up(x, s=4):
    return F.interpolate(x, scale_factor=s, mode="bicubic", align_corners=False)


def light_plain(features):
    """The light-plain network of `light_sr_torch.py`, tail scaled by 0.1 as `model.rs` starts it."""
    model = LightSr(f=features, plain=True)
    with torch.no_grad():
        model.tail.weight.mul_(0.1)
        model.tail.bias.zero_()
    return model


def y_psnr(a, b, crop=4):
    w = torch.tensor([65.481, 128.553, 24.966]).view(3, 1, 1) / 255
    d = ((a - b) * w).sum(0)[crop:-crop, crop:-crop]
    return -10 * math.log10(float((d * d).mean()))


def held_out_gain(model, test):
    gains = []
    with torch.no_grad():
        for t in test:
            hr = t[:, : t.shape[1] // 4 * 4, : t.shape[2] // 4 * 4]
            lr = down(hr[None])
            gains.append(y_psnr(model(lr).clamp(0, 1)[0], hr) - y_psnr(up(lr).clamp(0, 1)[0], hr))
    return gains


def main():
    out = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    lr0 = float(sys.argv[3]) if len(sys.argv) > 3 else 6e-4
    features = int(sys.argv[4]) if len(sys.argv) > 4 else 56
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = []
    for d in ["train-600", "detail"]:  # every 10th file held back, as train-srgan does
        train += [load(p) for i, p in enumerate(sorted(glob.glob(f"{P}/{d}/*"))) if i % 10 != 9]
    train = [t for t in train if min(t.shape[1:]) >= 128]
    test = [load(p) for p in sorted(glob.glob(f"{P}/test/*"))]
    model = light_plain(features)
    opt = torch.optim.Adam(model.parameters(), lr=lr0, betas=(0.9, 0.99), eps=1e-8)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr0 * 0.01)
    t0 = time.time()
    for step in range(1, steps + 1):
        patches = []
        for _ in range(8):
            t = train[rng.integers(len(train))]
            y, x = rng.integers(t.shape[1] - 127), rng.integers(t.shape[2] - 127)
            p = t[:, y : y + 128, x : x + 128]
            p = p.flip(2) if rng.random() < 0.5 else p
            p = p.flip(1) if rng.random() < 0.5 else p
            patches.append(p.transpose(1, 2) if rng.random() < 0.5 else p)
        hr = torch.stack(patches)
        loss = (model(down(hr)) - hr).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 500 == 0 or step == steps:
            g = held_out_gain(model, test)
            print(f"step {step} ({time.time() - t0:.0f} s): held-out gain {np.mean(g):+.3f} dB (worst {min(g):+.3f})", flush=True)
    torch.save(model.state_dict(), out)


if __name__ == "__main__":
    main()
