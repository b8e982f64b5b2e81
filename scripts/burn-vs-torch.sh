#!/usr/bin/env bash
# Same-run speed comparison of burn (Flex, this crate's conv kernels and burn's own conv2d) and
# PyTorch CPU on the `light` ×4 network (issue #26): an inference call (1×3×64×64 → 256²) and a
# training step (batch 8, 24 → 96 px, L1 + 0.1 SSIM, Adam). RUNS alternating runs of CALLS calls
# each; prints min/median/max per engine and the ratios of the medians (burn / PyTorch).
#
#   apt-get install -y python3-torch        # Debian's CPU PyTorch (1.13)
#   scripts/burn-vs-torch.sh [RUNS] [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
CALLS=${2:-10}
THREADS=${THREADS:-$(nproc)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/prettier-space/target}
cargo build --release -q -p sr-models --example profile_step
BIN=$CARGO_TARGET_DIR/release/examples/profile_step
PY=/usr/bin/python3
"$PY" -c "import torch" 2>/dev/null || { echo "burn-vs-torch: PyTorch missing: apt-get install -y python3-torch" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for r in $(seq "$RUNS"); do
  RAYON_NUM_THREADS=$THREADS "$BIN" "$CALLS" both \
    | sed -n 's/^inference.*: \([0-9.]*\) ms.*/inference_ms \1/p; s/^training step.*: \([0-9.]*\) ms.*/train_ms \1/p' >> "$OUT/ours"
  PRETTIER_SPACE_CONV=burn RAYON_NUM_THREADS=$THREADS "$BIN" "$CALLS" both \
    | sed -n 's/^inference.*: \([0-9.]*\) ms.*/inference_ms \1/p; s/^training step.*: \([0-9.]*\) ms.*/train_ms \1/p' >> "$OUT/burn"
  OMP_NUM_THREADS=$THREADS PYTHONPATH=benches/compare "$PY" benches/compare/light_sr_torch_step.py "$CALLS" >> "$OUT/torch"
done
"$PY" - "$OUT" "$RUNS" "$CALLS" "$THREADS" <<'PY'
import statistics, sys
out, runs, calls, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def read(name):
    d = {}
    for line in open(f"{out}/{name}"):
        k, v = line.split()
        d.setdefault(k, []).append(float(v))
    return d
eng = {"fast_conv": read("ours"), "burn conv2d": read("burn"), "PyTorch": read("torch")}
print(f"{runs} runs × {calls} calls, {threads} threads")
for phase in ["inference_ms", "train_ms"]:
    med = {}
    for name, d in eng.items():
        v = sorted(d[phase]); med[name] = statistics.median(v)
        print(f"{phase:13} {name:12} min {v[0]:8.1f}  median {med[name]:8.1f}  max {v[-1]:8.1f}")
    t = med["PyTorch"]
    print(f"{phase:13} ratio to PyTorch: fast_conv {med['fast_conv']/t:.2f}×, burn conv2d {med['burn conv2d']/t:.2f}×")
PY
