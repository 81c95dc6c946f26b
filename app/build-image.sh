#!/usr/bin/env bash
# Build the API image offline from a host-built wheelhouse.
#
#   app/build-image.sh [IMAGE] [WHEELHOUSE]     (defaults: taskapp-backend:latest .cache/wheelhouse)
#
# 1. `pip wheel` the app and its dependencies, pinned by requirements.txt (constraints),
#    into WHEELHOUSE on the host: the host's pip and CA trust reach PyPI, the build does not.
#    When the wheelhouse already holds everything, no index is contacted at all.
# 2. `docker build` app/Dockerfile with a small context (the Dockerfile + wheels only).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
image=${1:-taskapp-backend:latest}
wheels=${2:-$root/.cache/wheelhouse}
pip=$root/.venv/bin/pip
mkdir -p "$wheels"
rm -f "$wheels"/autobuy_guard-*.whl
build=$(mktemp -d /tmp/autobuy-image.XXXXXX)
trap 'rm -rf "$build"' EXIT
# the app's own wheel, from a clean copy of the package (no caches, no egg-info)
tar -C "$root/app" --exclude='__pycache__' --exclude='*.egg-info' -cf - pyproject.toml autobuy \
  | (mkdir -p "$build/src" && tar -C "$build/src" -xf -)
"$pip" wheel -q --no-deps -w "$wheels" "$build/src"
if ! "$pip" wheel -q --no-index --find-links "$wheels" -w "$wheels" -c "$root/requirements.txt" \
      "$build/src" 2>/dev/null; then
  echo "build-image: fetching missing wheels from the package index"
  "$pip" wheel -q --find-links "$wheels" -w "$wheels" -c "$root/requirements.txt" "$build/src"
fi
mkdir -p "$build/ctx"
cp "$root/app/Dockerfile" "$build/ctx/"
cp -r "$wheels" "$build/ctx/wheels"
docker build -q -t "$image" "$build/ctx" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "build-image: built $image ($((size / 1000 / 1000)) MB)"
