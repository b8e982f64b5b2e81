"""Side-by-side CPU timing of the lightweight ×4 generator in PyTorch (not run in CI).

Same architecture and shapes as `sr_models::model::LightSr` (5 blocks, ×4, a residual on a
bicubic upsample) and as `benches/sr_inference.rs`: `light_x4` (56 features) and `light_x4_alt`
(48 features, the bundled `general` ×4), 1×3×64×64 input; training step: batch 8, 24→96 px,
L1 + 0.1·(1−SSIM) replaced here by L1 only for brevity — note this when comparing. The bicubic
anchor is PyTorch's (a = −0.75) where burn's is MATLAB's (a = −0.5, as matrix products): the same cost.

    apt-get install python3-torch          # Debian's CPU build; or pip install torch (CPU wheel)
    python3 benches/compare/light_sr_torch.py [FEATURES ...]     # default: 56 48
    cargo bench --bench sr_inference -- "sr_inference_flex|sr_train_step"   # then divide

Prints milliseconds per forward pass and per training step; the ratio burn/PyTorch is
(criterion time) / (this time).
"""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, f, plain=False):
        super().__init__()
        self.plain = plain
        self.c1 = nn.Conv2d(f, f, 3, padding=1)
        self.c2 = nn.Conv2d(f, f, 3, padding=1)

    def forward(self, x):
        y = self.c2(F.leaky_relu(self.c1(x), 0.05)) + x
        return y if self.plain else F.leaky_relu(y, 0.05)


class LightSr(nn.Module):
    """`plain=True` is `--arch light-plain` (no activation after the skip sum)."""

    def __init__(self, scale=4, f=56, blocks=5, plain=False):
        super().__init__()
        self.scale = scale
        self.head = nn.Conv2d(3, f, 3, padding=1)
        self.blocks = nn.Sequential(*[Block(f, plain) for _ in range(blocks)])
        self.fuse = nn.Conv2d(f, f, 3, padding=1)
        self.tail = nn.Conv2d(f, 3 * scale * scale, 3, padding=1)

    def forward(self, x):
        anchor = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        f0 = F.leaky_relu(self.head(x), 0.05)
        f = self.fuse(self.blocks(f0)) + f0
        return F.pixel_shuffle(self.tail(f), self.scale) + anchor


def bench(fn, reps=20):
    fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps * 1000


def main():
    import sys

    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}")
    for f in [int(a) for a in sys.argv[1:]] or [56, 48]:
        m = LightSr(f=f)
        x = torch.rand(1, 3, 64, 64)
        with torch.no_grad():
            ms = bench(lambda: m(x))
        n = sum(p.numel() for p in m.parameters())
        print(f"light_x4 f={f} ({n} parameters) forward 1x3x64x64: {ms:.2f} ms ({256 * 256 / ms / 1000:.3f} output Mpx/s)")
    m = LightSr()
    opt = torch.optim.Adam(m.parameters(), lr=5e-4, betas=(0.9, 0.99))
    lr, hr = torch.rand(8, 3, 24, 24), torch.rand(8, 3, 96, 96)

    def step():
        opt.zero_grad()
        loss = (m(lr) - hr).abs().mean()
        loss.backward()
        opt.step()

    print(f"light_x4 f=56 train step batch 8, 24->96: {bench(step, 10):.2f} ms")


if __name__ == "__main__":
    main()
