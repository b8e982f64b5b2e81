#!/usr/bin/env bash
# The capacity/speed curve of issue #26 item 6: seconds per training step of `light-plain` ×4 at
# several widths × depths, on the `general` recipe's data (batch 8, 128 px patches, one rayon
# thread), from the difference of a 10-step and a 40-step run (start-up and data loading cancel).
# Usage: scripts/capacity-curve.sh FEATURESxBLOCKS ...   e.g. scripts/capacity-curve.sh 48x5 64x8
# Needs the photos (datasets/photos/fetch.sh, fetch-detail.sh, shrink.sh 600) and the Stellarium set.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prettier-space/target}"
cargo build --release -q -p train-srgan
bin="$CARGO_TARGET_DIR/release/train-srgan"
P="${PRETTIER_PHOTOS_DIR:-$HOME/.cache/prettier-space/photos}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for fb in "$@"; do
  f=${fb%x*}; b=${fb#*x}
  declare -A t
  for s in 10 40; do
    rm -rf "$tmp/run"
    start=$(date +%s.%N)
    RAYON_NUM_THREADS=1 "$bin" --arch light-plain --scale 4 --features "$f" --blocks "$b" --hr-dir "$P/train-600" \
      --hr-dir "$P/detail" --stellarium --degradation general --steps "$s" --batch 8 --patch 128 --warmup 5 \
      --grad-clip 0 --ema 0.99 --seed 61 --val-every 1000 --checkpoint-every 1000 --out "$tmp/run" \
      >/dev/null 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }
    t[$s]=$(echo "$(date +%s.%N) - $start" | bc)
  done
  echo "light-plain ×4 ${f} features × ${b} blocks: $(echo "scale=3; (${t[40]} - ${t[10]}) / 30" | bc) s/step"
done
