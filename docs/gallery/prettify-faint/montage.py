#!/usr/bin/env python3
"""Side-by-side panels of prettify outputs under a strong asinh stretch, so that changes of a few
levels in the faint outskirts of a galaxy become visible (docs/gallery/prettify.md, "Faint signal").

Usage: montage.py OUT.png PANEL.png [PANEL.png ...]   (Pillow only; every panel is shown at 384 px)
"""
import math
import sys

from PIL import Image

K = 40.0  # asinh stretch strength: level 10/255 is shown at ≈ 45 % grey


def stretch(v: int) -> int:
    return round(255 * math.asinh(K * v / 255) / math.asinh(K))


def main() -> None:
    out, panels = sys.argv[1], sys.argv[2:]
    side, gap = 384, 6
    sheet = Image.new("RGB", (len(panels) * side + (len(panels) - 1) * gap, side), "white")
    lut = [stretch(v) for v in range(256)] * 3
    for i, p in enumerate(panels):
        im = Image.open(p).convert("RGB").resize((side, side), Image.Resampling.BOX).point(lut)
        sheet.paste(im, (i * (side + gap), 0))
    sheet.save(out)


if __name__ == "__main__":
    main()
