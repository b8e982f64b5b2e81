#!/usr/bin/env bash
# Data-parallel throughput on this machine's CPU (issue #30, docs/distributed.md): train-srgan
# `light` ×4 for STEPS steps of a global batch of 8 (64 px patches) on three real Stellarium
# images, as one process (all cores), and as two processes through the orchestrator on 127.0.0.1
# (one core each). Prints wall seconds and steps/s of each. Usage: scripts/ddp-throughput.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-30}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prettier-space/target}"
cargo build --quiet -p train-srgan
bin="$CARGO_TARGET_DIR/debug/train-srgan"
nebulae="${PRETTIER_STELLARIUM_DIR:-$HOME/.cache/prettier-space/stellarium}/root/usr/share/stellarium/nebulae/default"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/hr"
for n in m79 m68 m70; do ln -s "$nebulae/$n.png" "$work/hr/$n.png"; done
common=(--arch light --scale 4 --steps "$steps" --batch 8 --patch 64 --val-every 100000 --checkpoint-every 100000
  --hr-dir "$work/hr" --seed 1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { print b - a }'; }
report() { awk -v s="$steps" -v t="$2" -v name="$1" 'BEGIN { printf "%-34s %6.1f s  %5.2f steps/s\n", name, t, s / t }'; }

t0=$(date +%s.%N)
"$bin" "${common[@]}" -o "$work/one" 2>/dev/null
report "1 process, $(nproc) cores" "$(since "$t0")"

t0=$(date +%s.%N)
RAYON_NUM_THREADS=1 "$bin" "${common[@]}" -o "$work/one1" 2>/dev/null
report "1 process, 1 core" "$(since "$t0")"

t0=$(date +%s.%N)
nodes=(--collective-server "127.0.0.1:$port" --nodes 2)
RAYON_NUM_THREADS=1 "$bin" "${common[@]}" -o "$work/two" "${nodes[@]}" --node-rank 0 2>/dev/null &
first=$!
RAYON_NUM_THREADS=1 "$bin" "${common[@]}" -o "$work/two-b" "${nodes[@]}" --node-rank 1 2>/dev/null
wait "$first"
report "2 processes (127.0.0.1), 1 core each" "$(since "$t0")"
