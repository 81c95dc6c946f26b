#!/usr/bin/env bash
# Build one of the images under images/ FROM a local base image, never pulling.
#
#   images/build.sh RECIPE IMAGE BASE      e.g. images/build.sh instance autobuy/instance:debian12 autobuy/debian:bookworm
#
# RECIPE is a directory of images/ holding a Dockerfile (with `ARG BASE`). The image
# carries the label org.autobuy.recipe = hash(recipe files + base image id): when an
# image with the same hash exists nothing is rebuilt, so a changed recipe or a rebuilt
# base (scripts/base-image.sh) rebuilds it and nothing else does.
set -euo pipefail
recipe=${1:?usage: build.sh RECIPE IMAGE BASE}
image=${2:?usage: build.sh RECIPE IMAGE BASE}
base=${3:?usage: build.sh RECIPE IMAGE BASE}
here=$(cd "$(dirname "$0")" && pwd)
dir=$here/$recipe
[[ -f $dir/Dockerfile ]] || { echo "images: no recipe $dir/Dockerfile" >&2; exit 2; }
base_id=$(docker image inspect -f '{{ .Id }}' "$base" 2>/dev/null) \
  || { echo "images: base image $base is missing (scripts/base-image.sh builds it)" >&2; exit 1; }
hash=$( { (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); \
          stat -c '%a %n' "$dir"/*; echo "$base_id"; } | sha256sum | cut -c1-16)
if [[ $(docker image inspect -f '{{ index .Config.Labels "org.autobuy.recipe" }}' "$image" 2>/dev/null) == "$hash" ]]; then
  echo "images: $image is up to date ($hash)"
  exit 0
fi
echo "images: building $image from $base ($hash)"
log=$(mktemp /tmp/autobuy-image-build.XXXXXX)
trap 'rm -f "$log"' EXIT
docker build --pull=false --build-arg "BASE=$base" --label "org.autobuy.recipe=$hash" \
  -t "$image" "$dir" >"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
echo "images: built $image"
