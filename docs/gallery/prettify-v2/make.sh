#!/usr/bin/env bash
# The prettify v2 gallery (docs/gallery/prettify.md, "v2"): for each real survey image, a 256-px
# cut (its centre, or around its brightest star for "halo"), then input | bicubic | --classic |
# v2 faithful (default) | v2 dream (--hallucinate --seed 1), a 64-px window at 4x zoom.
# Usage: docs/gallery/prettify-v2/make.sh   (release prettify built; Pillow; Stellarium data fetched)
set -euo pipefail
cd "$(dirname "$0")"
bin="${CARGO_TARGET_DIR:-$HOME/.cache/prettier-space/target}/release/prettify"
S="${PRETTIER_STELLARIUM_DIR:-$HOME/.cache/prettier-space/stellarium}/root/usr/share/stellarium/nebulae/default"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
row() { # NAME SOURCE MODE(centre|halo) X Y (window in the 256 cut; -1 -1: its centre)
  local name=$1 src=$2 mode=$3 x=$4 y=$5
  python3 - "$src" "$tmp/$name.png" "$mode" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
if sys.argv[3] == "halo":
    g = im.convert("L"); px = g.load()
    _, cx, cy = max((px[x, y], x, y) for y in range(0, h, 2) for x in range(0, w, 2))
else:
    cx, cy = w // 2, h // 2
x0 = min(max(cx - 128, 0), max(w - 256, 0)); y0 = min(max(cy - 128, 0), max(h - 256, 0))
im.crop((x0, y0, x0 + min(256, w), y0 + min(256, h))).save(sys.argv[2])
PY
  python3 -c "from PIL import Image; i=Image.open('$tmp/$name.png'); i.resize((2*i.width,2*i.height), Image.BICUBIC).save('$tmp/$name-bic.png')"
  "$bin" "$tmp/$name.png" --classic -o "$tmp/$name-v1.png" >/dev/null
  "$bin" "$tmp/$name.png" -o "$tmp/$name-v2.png" >/dev/null
  "$bin" "$tmp/$name.png" --hallucinate --seed 1 -o "$tmp/$name-dream.png" >/dev/null
  if [ "$x" -lt 0 ]; then x=96; y=96; fi
  python3 zoom.py "$name.png" "$x" "$y" 64 "$tmp/$name.png" "$tmp/$name-bic.png" "$tmp/$name-v1.png" "$tmp/$name-v2.png" "$tmp/$name-dream.png"
  echo "$name.png"
}
row readme-ngc185-stars "$S/n185-dss.png" centre 150 30
row readme-ngc185-core "$S/n185-dss.png" centre 96 96
row globular-ngc6934 "$S/n6934-dss.png" centre -1 -1
row bright-star-m39 "$S/m39-dss.png" halo -1 -1
row nebula-ic2177 "$S/ic2177.png" centre -1 -1
row galaxy-ngc1560 "$S/n1560-dss.png" centre -1 -1
row cluster-ngc2298 "$S/n2298-dss.png" centre -1 -1
