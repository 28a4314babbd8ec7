#!/usr/bin/env bash
# make data NAME=... [FROM=DIR]: puts a data set under datasets/NAME.
#   FROM=DIR               copy DIR/NAME (e.g. FROM=../shared/data)
#   NAME=synthetic-ml-20m  generate an ML-20M-shaped ratings.csv with build/bin/generate_ratings
#   otherwise              download the GroupLens zip and check it against GroupLens' published .md5
set -euo pipefail
name="${1:-}"
from="${2:-}"
cd "$(dirname "$0")/.."
if [ -z "$name" ]; then
  echo "usage: make data NAME=ml-100k|ml-1m|ml-20m|ml-latest-small|ncf-ml-1m|synthetic-ml-20m [FROM=DIR]" >&2
  exit 2
fi
mkdir -p datasets
if [ -n "$from" ]; then
  [ -d "$from/$name" ] || { echo "make data: $from/$name does not exist" >&2; exit 1; }
  rm -rf "datasets/$name.tmp" && cp -r "$from/$name" "datasets/$name.tmp" && chmod -R u+w "datasets/$name.tmp"
  rm -rf "datasets/$name" && mv "datasets/$name.tmp" "datasets/$name"
  echo "copied $from/$name -> datasets/$name"
  exit 0
fi
case "$name" in
  synthetic-ml-20m)
    [ -x build/bin/generate_ratings ] || make build
    build/bin/generate_ratings --out "datasets/$name/ratings.csv" --users 138493 --items 26744 --ratings 20000263
    exit 0 ;;
  ml-100k|ml-1m|ml-20m|ml-latest-small) ;;
  ncf-ml-1m)
    echo "make data: the NCF paper's ml-1m files are not downloaded by this script; copy them with FROM=DIR" >&2
    exit 1 ;;
  *) echo "make data: unknown data set '$name'" >&2; exit 2 ;;
esac
url="https://files.grouplens.org/datasets/movielens/$name.zip"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if ! curl -fsSL --max-time 600 -o "$tmp/$name.zip" "$url" || ! curl -fsSL --max-time 60 -o "$tmp/$name.zip.md5" "$url.md5"; then
  cat >&2 <<MSG
make data: could not download $url (no network here?).
Download $name.zip and $name.zip.md5 from GroupLens (https://grouplens.org/datasets/movielens/) on a machine
with access, unzip it, and run:  make data NAME=$name FROM=<folder that holds $name/>
MSG
  exit 1
fi
want="$(grep -oE '[0-9a-f]{32}' "$tmp/$name.zip.md5" | head -n 1)"
have="$(md5sum "$tmp/$name.zip" | cut -d' ' -f1)"
if [ -z "$want" ] || [ "$want" != "$have" ]; then
  echo "make data: checksum mismatch for $name.zip (published '$want', downloaded '$have'); nothing installed" >&2
  exit 1
fi
(cd "$tmp" && unzip -q "$name.zip")
rm -rf "datasets/$name" && mv "$tmp/$name" "datasets/$name"
echo "installed datasets/$name (md5 $have verified)"
