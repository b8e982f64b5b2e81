#!/usr/bin/env bash
# Make the training photographs detail-dense: the wallpapers are 1.3–6 K pixels wide and mostly
# smooth sky and bokeh at full size, so super-resolution learns little from them. This writes
# copies whose longer side is at most MAX (default 1200) px, area-averaged by ffmpeg, as PNG.
# Usage: datasets/photos/shrink.sh [MAX] [CACHE_DIR]   (needs ffmpeg: apt-get install ffmpeg)
set -euo pipefail
max="${1:-1200}"
dir="${2:-${PRETTIER_PHOTOS_DIR:-$HOME/.cache/prettier-space/photos}}"
command -v ffmpeg >/dev/null || { echo "shrink.sh: ffmpeg not found: apt-get install ffmpeg" >&2; exit 1; }
out="$dir/train-$max"
[ -f "$out/.complete" ] && { echo "already in $out"; exit 0; }
rm -rf "$out.tmp"; mkdir -p "$out.tmp"
for f in "$dir"/train/*; do
  name=$(basename "${f%.*}")
  ffmpeg -loglevel error -y -i "$f" \
    -vf "scale='if(gt(iw,ih),min($max,iw),-2)':'if(gt(iw,ih),-2,min($max,ih))':flags=area" \
    "$out.tmp/$name.png"
done
touch "$out.tmp/.complete"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$(ls "$out" | wc -l) photographs ≤ $max px in $out"
