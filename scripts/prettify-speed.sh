#!/usr/bin/env bash
# prettify's speed goal (issue #25): a 1,000 × 1,000 real survey image (the centre of Stellarium's
# DSS image of the Virgo cluster, cut with ffmpeg) prettified ×2 by the release binary, star-aware
# default and --classic, RUNS times each; prints min / median / max wall seconds.
# Usage: scripts/prettify-speed.sh [RUNS]   (needs datasets/stellarium/fetch.sh and ffmpeg)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prettier-space/target}"
cargo build --release -q -p prettify
bin="$CARGO_TARGET_DIR/release/prettify"
src="${PRETTIER_STELLARIUM_DIR:-$HOME/.cache/prettier-space/stellarium}/root/usr/share/stellarium/nebulae/default/virgo_cluster.png"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -loglevel error -i "$src" -vf "crop=1000:1000:524:524" "$tmp/in.png"
for mode in "" "--classic"; do
  times=()
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N)
    "$bin" "$tmp/in.png" -o "$tmp/out.png" $mode >/dev/null
    times+=("$(echo "$(date +%s.%N) - $s" | bc)")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  echo "prettify ${mode:-(star-aware)} 1000x1000 -> 2000x2000: min $(echo "$sorted" | head -1) s, median $(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p") s, max $(echo "$sorted" | tail -1) s over $runs runs"
done
