#!/usr/bin/env bash
# Build a minimal Debian base image from Debian's archive, offline from any registry.
#
#   scripts/base-image.sh SUITE [IMAGE]     e.g. scripts/base-image.sh bookworm
#
# Produces IMAGE (default autobuy/debian:SUITE) with `debootstrap --variant=minbase`
# and `docker import`. The image carries a label with the hash of this recipe;
# when an image with the same hash exists, nothing is rebuilt.
set -euo pipefail
suite=${1:?usage: base-image.sh SUITE [IMAGE]}
image=${2:-autobuy/debian:$suite}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
recipe=$( { cat "$0"; echo "$suite $mirror"; } | sha256sum | cut -c1-16)

"$here/system-deps.sh" docker debootstrap
if [[ $(docker image inspect -f '{{ index .Config.Labels "org.autobuy.recipe" }}' "$image" 2>/dev/null) == "$recipe" ]]; then
  echo "base-image: $image is up to date ($recipe)"
  exit 0
fi
rootfs=$(mktemp -d /var/tmp/autobuy-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "base-image: debootstrap $suite into $rootfs"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
  || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
chmod 755 "$rootfs"
tar -C "$rootfs" -c . | docker import \
  --change "LABEL org.autobuy.recipe=$recipe" \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "base-image: built $image ($recipe)"
