"""PyTorch half of `scripts/burn-vs-torch.sh` (issue #26): the same `light` ×4 network as
`sr_models::model::LightSr` (56 features, 5 blocks) timed for one inference call (1×3×64×64 → 256²)
and one training step (batch 8, 24 → 96 px, Adam, loss L1 + 0.1·(1 − SSIM) with the 11×11,
σ = 1.5 Gaussian window, as `train-srgan`'s pre-training). Prints one line per phase:

    /usr/bin/python3 benches/compare/light_sr_torch_step.py [CALLS]
    inference_ms 12.3
    train_ms 45.6
"""
import math
import sys

import torch
import torch.nn.functional as F

from light_sr_torch import LightSr, bench


def gaussian_window(channels):
    g = torch.tensor([math.exp(-((i - 5) ** 2) / (2 * 1.5**2)) for i in range(11)])
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, 11, 11).contiguous()


def ssim(x, y, win):
    c = x.shape[1]
    f = lambda t: F.conv2d(t, win, groups=c)
    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    cs = (2 * sxy + 9e-4) / (sxx + syy + 9e-4)
    return ((2 * mx * my + 1e-4) / (mx * mx + my * my + 1e-4) * cs).mean()


def main():
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    torch.manual_seed(0)
    m = LightSr(f=56)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        print(f"inference_ms {bench(lambda: m(x), calls):.2f}")
    opt = torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.9, 0.99))
    lr, hr = torch.rand(8, 3, 24, 24), torch.rand(8, 3, 96, 96)
    win = gaussian_window(3)

    def step():
        opt.zero_grad()
        sr = m(lr)
        loss = (sr - hr).abs().mean() + 0.1 * (1 - ssim(sr, hr, win))
        loss.backward()
        opt.step()

    print(f"train_ms {bench(step, calls):.2f}")


if __name__ == "__main__":
    main()
