#!/usr/bin/env bash
# `make release`: ship the checked-out commit.
#   1. the tag: the commit's full sha. A tree with uncommitted changes (tracked or not) is
#      refused, unless RELEASE_ALLOW_DIRTY=1: then `<sha>-dirty-<UTC time>`, a tag no
#      commit can have, so a dirty build is never mistaken for the commit.
#   2. `make image`: taskapp-backend:latest from app/.
#   3. playbooks/release.yml: pushes it to the stack's ECR repository under that tag,
#      after an ECR login with GetAuthorizationToken; a tag already there is not pushed.
#   4. playbooks/deploy.yml with that tag (launch template version + instance refresh);
#      nothing new -> changed=0.
#
#   INVENTORY=inventories/aws scripts/release.sh          (default inventories/local)
#   RELEASE_ARGS='-e aws_endpoint_url=http://127.0.0.1:PORT'  extra ansible-playbook args
#   scripts/release.sh --tag    print the tag this tree would get, and stop
#   RELEASE_REGISTRY=HOST:PORT  where this machine reaches the registry, when that is not
#                               the registry host ECR names (the twin's loopback port)
#   RELEASE_IMAGE_ENV='NAME=value ...'  settings baked into the image as ENV on top of
#                               `make image` (e.g. GUNICORN_BIND=127.0.0.1:5000, the broken
#                               release of docs/delivery.md); the tag gets
#                               `-env-<12 hex of their sha256>`, so such an image is never
#                               mistaken for the commit's own.
set -euo pipefail
cd "$(dirname "$0")/.."
INVENTORY=${INVENTORY:-inventories/local}
BIN=$PWD/.venv/bin
read -ra extra <<<"${RELEASE_ARGS:-}"

release_tag() {
  local sha
  sha=$(git rev-parse --verify HEAD)
  if [[ -z $(git status --porcelain) ]]; then
    echo "$sha"
  elif [[ ${RELEASE_ALLOW_DIRTY:-0} == 1 ]]; then
    echo "$sha-dirty-$(date -u +%Y%m%dT%H%M%SZ)"
  else
    echo "release: the working tree has uncommitted changes (git status); commit them," \
         "or set RELEASE_ALLOW_DIRTY=1 for a tag marked -dirty-<time>" >&2
    git status --short >&2
    return 1
  fi
}

read -ra image_env <<<"${RELEASE_IMAGE_ENV:-}"
for setting in "${image_env[@]}"; do
  if [[ ! $setting =~ ^[A-Z_][A-Z0-9_]*=[^\"]*$ ]]; then
    echo "release: RELEASE_IMAGE_ENV entries are NAME=value (NAME in capitals, no quotes);" \
         "got '$setting'" >&2
    exit 2
  fi
done
tag=$(release_tag)
if ((${#image_env[@]})); then
  tag="$tag-env-$(printf '%s\n' "${image_env[@]}" | sha256sum | cut -c1-12)"
fi
if [[ ${1:-} == --tag ]]; then echo "$tag"; exit 0; fi
echo "release: taskapp-backend:$tag to $INVENTORY"
make --no-print-directory image
local_image=taskapp-backend:latest
if ((${#image_env[@]})); then
  local_image=taskapp-backend:$tag
  { echo "FROM taskapp-backend:latest"
    for setting in "${image_env[@]}"; do echo "ENV ${setting%%=*}=\"${setting#*=}\""; done
  } | docker build -q -t "$local_image" - >/dev/null
  echo "release: built $local_image with ${image_env[*]}"
fi
registry=()
[[ -n ${RELEASE_REGISTRY:-} ]] && registry=(-e "autobuy_release_registry=$RELEASE_REGISTRY")
"$BIN/ansible-playbook" playbooks/release.yml -i "$INVENTORY" -e "autobuy_image_tag=$tag" \
  -e "release_local_image=$local_image" "${registry[@]}" "${extra[@]}"
"$BIN/ansible-playbook" playbooks/deploy.yml -i "$INVENTORY" -e "autobuy_image_tag=$tag" "${extra[@]}"
