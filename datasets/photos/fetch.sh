#!/usr/bin/env bash
# Fetch real photographs for super-resolution training and testing, offline-reproducibly, from
# Debian and PyPI packages (no root install), into a cache directory. Idempotent.
#
#   train/  photographs from Debian wallpaper packages (lomiri-wallpapers-16.04, lomiri-wallpapers-20.04:
#           Ubuntu wallpaper-contest photographs; mate-backgrounds: its nature/ photographs)
#   test/   the held-out set, never trained or tuned on: scikit-image's bundled sample photographs
#           (skimage/data in the scikit-image 0.26.0 wheel from PyPI; the classic SR-style test images)
#
# Usage: datasets/photos/fetch.sh [CACHE_DIR]
# Default CACHE_DIR: $PRETTIER_PHOTOS_DIR or $HOME/.cache/prettier-space/photos
set -euo pipefail
dir="${1:-${PRETTIER_PHOTOS_DIR:-$HOME/.cache/prettier-space/photos}}"
if [ -f "$dir/.complete" ]; then
  echo "photographs already in $dir"
  exit 0
fi
mkdir -p "$dir/debs"
cd "$dir/debs"
for pkg in lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds; do
  if ! ls "${pkg}"_*_all.deb >/dev/null 2>&1; then
    apt-get download "$pkg" 2>/dev/null || { apt-get update -qq; apt-get download "$pkg"; }
  fi
done
cd "$dir"
rm -rf unpack train.tmp test.tmp
mkdir -p unpack train.tmp test.tmp
for deb in debs/*.deb; do dpkg-deb -x "$deb" unpack; done
# Photographs only: the lomiri contest photos (all but the one painting) and MATE's nature/ folder.
for f in unpack/usr/share/backgrounds/*.jpg unpack/usr/share/backgrounds/mate/nature/*.jpg; do
  case "$(basename "$f")" in
    Painting-Colors_*) continue ;;
  esac
  cp "$f" train.tmp/
done
# The held-out test set: scikit-image's sample photographs (pinned wheel, verified by pip's hash check).
whl=$(ls scikit_image-0.26.0-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$whl" ]; then
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest . "scikit-image==0.26.0"
  whl=$(ls scikit_image-0.26.0-*.whl | head -n 1)
fi
python3 - "$whl" test.tmp <<'PY'
import sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
# Natural photographs (and the Hubble Deep Field); not the drawings, charts or binary masks.
keep = ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "grass.png",
        "gravel.png", "brick.png", "moon.png", "motorcycle_left.png", "retina.jpg", "rocket.jpg",
        "hubble_deep_field.jpg"]
with zipfile.ZipFile(whl) as z:
    for name in keep:
        data = z.read("skimage/data/" + name)
        open(f"{out}/{name}", "wb").write(data)
PY
rm -rf unpack train test
mv train.tmp train
mv test.tmp test
touch .complete
echo "photographs: $(ls train | wc -l) training in $dir/train, $(ls test | wc -l) held-out in $dir/test"
