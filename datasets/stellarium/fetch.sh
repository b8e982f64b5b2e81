#!/usr/bin/env bash
# Fetch Debian's stellarium-data package and unpack it into a cache directory (no root install).
# Idempotent: does nothing when the unpacked tree is already there.
# Usage: datasets/stellarium/fetch.sh [CACHE_DIR]
# Default CACHE_DIR: $PRETTIER_STELLARIUM_DIR or $HOME/.cache/prettier-space/stellarium
set -euo pipefail
dir="${1:-${PRETTIER_STELLARIUM_DIR:-$HOME/.cache/prettier-space/stellarium}}"
root="$dir/root"
marker="$root/usr/share/stellarium/nebulae/default/textures.json"
if [ -f "$marker" ] && [ -f "$dir/.complete" ]; then
  echo "stellarium-data already unpacked in $root"
  exit 0
fi
mkdir -p "$dir"
cd "$dir"
if ! ls stellarium-data_*_all.deb >/dev/null 2>&1; then
  # apt-get download needs package lists; refresh them if the package is unknown.
  apt-get download stellarium-data 2>/dev/null || { apt-get update -qq; apt-get download stellarium-data; }
fi
deb=$(ls stellarium-data_*_all.deb | head -n 1)
rm -rf root.tmp
mkdir root.tmp
dpkg-deb -x "$deb" root.tmp
rm -rf root
mv root.tmp root
touch .complete
echo "stellarium-data unpacked: $root (from $deb)"
