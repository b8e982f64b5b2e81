#!/usr/bin/env python3
"""Write a large 16-bit mono SER file for throughput and memory measurements (needs numpy).

Frames: a fixed random texture (8-px cells) smoothed 1-5 times (a blur that cycles over the
frames), scaled to 8,000-48,000, plus Gaussian noise of 300 DN. Little-endian samples (header
field 22 = 0, as capture software writes it).

usage: scripts/synthetic-ser16.py WIDTH HEIGHT FRAMES OUT.ser
"""
import struct
import sys

import numpy as np

w, h, n, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(1)
head = bytearray(178)
head[:14] = b"LUCAM-RECORDER"
# LuID, ColorID (0 = mono), little-endian field (0), width, height, bits per sample, frames.
struct.pack_into("<7i", head, 14, 0, 0, 0, w, h, 16, n)
base = rng.random((h // 8 + 2, w // 8 + 2)).astype(np.float32)
base = np.kron(base, np.ones((8, 8), np.float32))[:h, :w]
with open(path, "wb") as f:
    f.write(head)
    for i in range(n):
        img = base.copy()
        for _ in range(1 + i % 5):
            img = (img + np.roll(img, 1, 0) + np.roll(img, 1, 1) + np.roll(img, -1, 0) + np.roll(img, -1, 1)) / 5
        img = img * 40000 + 8000 + rng.normal(0, 300, (h, w))
        f.write(np.clip(img, 0, 65535).astype("<u2").tobytes())
