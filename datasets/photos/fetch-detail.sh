#!/usr/bin/env bash
# Fetch detail-rich real photographs for super-resolution training, offline-reproducibly, from
# Debian packages (no root install), into CACHE_DIR/detail/. Idempotent.
#
# The wallpapers of fetch.sh are mostly smooth sky and bokeh; these add texture (fur, foliage,
# brick, graffiti, fabric, text on objects) of the kind the held-out test photographs have:
#   opencv-doc      samples/data: the classic vision test photographs (graffiti, Middlebury
#                   scenes, baboon, fruits, building, board, …; not the drawings, charts or
#                   stereo duplicates)
#   palapeli-data   KDE Palapeli's jigsaw collection: five photographs
#   stellarium-data two landscape photographs without transparency (the Mars panorama and Apollo 17)
# None of these are in the held-out test set (scikit-image's sample photographs, fetch.sh).
#
# Usage: datasets/photos/fetch-detail.sh [CACHE_DIR]   (needs ffmpeg: apt-get install ffmpeg)
# Default CACHE_DIR: $PRETTIER_PHOTOS_DIR or $HOME/.cache/prettier-space/photos
set -euo pipefail
dir="${1:-${PRETTIER_PHOTOS_DIR:-$HOME/.cache/prettier-space/photos}}"
out="$dir/detail"
if [ -f "$out/.complete" ]; then
  echo "detail photographs already in $out"
  exit 0
fi
command -v ffmpeg >/dev/null || { echo "fetch-detail.sh: ffmpeg not found: apt-get install ffmpeg" >&2; exit 1; }
mkdir -p "$dir/debs"
cd "$dir/debs"
for pkg in opencv-doc palapeli-data stellarium-data; do
  if ! ls "${pkg}"_*_all.deb >/dev/null 2>&1; then
    apt-get download "$pkg" 2>/dev/null || { apt-get update -qq; apt-get download "$pkg"; }
  fi
done
cd "$dir"
rm -rf unpack-detail "$out.tmp"
mkdir -p unpack-detail "$out.tmp"
extract() { # deb, paths inside it
  local deb="$1"; shift
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C unpack-detail "$@"
}
cv=./usr/share/doc/opencv-doc/examples/data
extract debs/opencv-doc_*_all.deb $(for f in graf1.png graf3.png chicky_512.png rubberwhale1.png leuvenA.jpg \
  aloeL.jpg baboon.jpg basketball1.png board.jpg fruits.jpg building.jpg messi5.jpg smarties.png \
  squirrel_cls.jpg ela_original.jpg pic2.png pic4.png box_in_scene.png; do echo "$cv/$f"; done)
pp=./usr/share/palapeli/collection
extract debs/palapeli-data_*_all.deb $(for f in castle-maintenon cincinnati-bridge citrus-fruits \
  european-honey-bee panther-chameleon-female; do echo "$pp/$f.jpg"; done)
sl=./usr/share/stellarium/landscapes
extract debs/stellarium-data_*_all.deb "$sl/mars/mars.png" "$sl/moon/apollo17.png"
# Same format for all: 8-bit RGB PNG, alpha dropped (these have none that matters).
find unpack-detail -type f | sort | while read -r f; do
  ffmpeg -nostdin -loglevel error -y -i "$f" -pix_fmt rgb24 "$out.tmp/$(basename "${f%.*}").png"
done
rm -rf unpack-detail
touch "$out.tmp/.complete"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "detail photographs: $(ls "$out" | wc -l) in $out"
