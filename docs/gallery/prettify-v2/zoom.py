#!/usr/bin/env python3
"""4x-zoom side-by-side crops for the prettify v2 gallery (docs/gallery/prettify.md, "v2").

Usage: zoom.py OUT.png X Y SIDE INPUT.png PANEL.png [PANEL.png ...]
  X, Y, SIDE: the crop in *input* pixels. INPUT is shown nearest-enlarged; each PANEL (any
  integer multiple of the input's size) is cropped at the same sky area; every panel is then
  enlarged with nearest neighbour to SIDE x 4 screen pixels per input pixel. Pillow only.
"""
import sys

from PIL import Image

ZOOM = 4


def main() -> None:
    out, x, y, side = sys.argv[1], *map(int, sys.argv[2:5])
    paths = sys.argv[5:]
    base = Image.open(paths[0]).convert("RGB")
    px = side * ZOOM
    gap = 6
    sheet = Image.new("RGB", (len(paths) * px + (len(paths) - 1) * gap, px), "white")
    for i, p in enumerate(paths):
        im = Image.open(p).convert("RGB")
        k = im.width // base.width
        crop = im.crop((x * k, y * k, (x + side) * k, (y + side) * k))
        sheet.paste(crop.resize((px, px), Image.Resampling.NEAREST), (i * (px + gap), 0))
    sheet.save(out)


if __name__ == "__main__":
    main()
