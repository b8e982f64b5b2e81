#!/usr/bin/env python3
"""Where in the spatial spectrum a simulated surface cell's frame quality can be read.

For every cell of a `frame-sim --grid` output folder: each frame is binned 2x2, its mean removed,
Hann-windowed and Fourier transformed; the power in 12 radial annuli (cycles per binned pixel) is
ranked against the truth (truth.csv, mean local Strehl) with Spearman's rho, and the median SNR
of each annulus (signal over the checkerboard noise estimate) is shown in brackets. Last column:
a spectral-ratio score (each frame's noise-subtracted amplitude over the video's mean amplitude,
summed over the frequencies whose mean power is at least twice the noise) -- an all-band,
object-independent estimate of the MTF area. Research probe for issue 27 (needs numpy).

usage: scripts/surface-band-probe.py /work/runs/surf/s2 [more grid folders]
"""
import csv
import os
import struct
import sys

import numpy as np


def read_ser(path):
    """Frames of a mono or RGB SER file as a (n, h, w[, 3]) array (memory-mapped)."""
    head = open(path, "rb").read(178)
    color, le_field, w, h, depth, n = struct.unpack("<6i", head[18:42])
    # Field 22 is 0 for little-endian samples, as capture software writes it.
    dt = np.uint8 if depth <= 8 else np.dtype("<u2" if le_field == 0 else ">u2")
    planes = 3 if color in (100, 101) else 1
    a = np.memmap(path, dtype=dt, mode="r", offset=178, shape=(n, h, w * planes))
    return a.reshape(n, h, w, 3).mean(-1) if planes == 3 else a


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return np.corrcoef(ra, rb)[0, 1]


def probe(path, truth):
    fr = np.asarray(read_ser(path), dtype=np.float32)
    n, h, w = fr.shape
    q = fr[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2)
    checker = (q[:, :, 0, :, 0] - q[:, :, 0, :, 1] - q[:, :, 1, :, 0] + q[:, :, 1, :, 1]) / 2
    fr = q.mean((2, 4))
    hh, ww = fr.shape[1:]
    win = np.outer(np.hanning(hh), np.hanning(ww)).astype(np.float32)
    # White noise of a binned pixel is the checkerboard variance / 4; its power per frequency
    # after the window is that times sum(win^2).
    noise = (checker**2).mean((1, 2)) / 4 * (win**2).sum()
    f = np.fft.rfft2((fr - fr.mean((1, 2), keepdims=True)) * win)
    p = f.real**2 + f.imag**2
    r = np.sqrt(np.fft.rfftfreq(ww)[None, :] ** 2 + np.fft.fftfreq(hh)[:, None] ** 2)
    edges = [0.005, 0.02, 0.04, 0.06, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.35, 0.42]
    cols = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (r >= lo) & (r < hi)
        e = p[:, m].sum(1)
        nz = noise * m.sum()
        cols.append("%.2f:%.2f(%.0f)" % (lo, spearman(e, truth), (np.median(e) - nz.mean()) / nz.mean()))
    amp = np.sqrt(np.maximum(p - noise[:, None, None], 0))
    mask = (p.mean(0) > 2 * noise.mean()) & (r > 0.01)
    ratio = (amp[:, mask] / amp.mean(0)[mask]).sum(1)
    return " ".join(cols) + "  ratio %.3f" % spearman(ratio, truth)


for root in sys.argv[1:]:
    for cell in sorted(os.listdir(root)):
        d = os.path.join(root, cell)
        if not os.path.exists(os.path.join(d, "frames.ser")):
            continue
        truth = np.array([float(row["strehl"]) for row in csv.DictReader(open(os.path.join(d, "truth.csv")))])
        print(cell, probe(os.path.join(d, "frames.ser"), truth), flush=True)
