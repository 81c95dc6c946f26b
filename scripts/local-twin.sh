#!/usr/bin/env bash
# The end of `make local` with the twin on: push the app image `make image` built to the
# stack's ECR (the twin's registry) as the stack's tag, unless ECR holds that tag already
# (playbooks/release.yml: changed=0 then), wait for a healthy target, write
# .localcloud/twin.json and print what a person needs (localcloud/twin/summary.py).
#
#   scripts/local-twin.sh http://127.0.0.1:4566        (LOCAL_WAIT=600 seconds to wait)
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: scripts/local-twin.sh LOCALCLOUD_URL}
BIN=$PWD/.venv/bin
registry=$("$BIN/python" - "$url" <<'PY'
import json, sys, urllib.request
twin = json.load(urllib.request.urlopen(sys.argv[1] + "/localcloud/twin", timeout=10))
if not twin.get("enabled"):
    sys.exit(f"local: the local cloud on {sys.argv[1]} runs without the twin (LOCALCLOUD_TWIN=off):"
             " `make localcloud-stop`, then `make local`")
print(twin["registry"])
PY
)
"$BIN/ansible-playbook" playbooks/release.yml -i inventories/local -e "aws_endpoint_url=$url" \
  -e "autobuy_release_registry=$registry"
exec "$BIN/python" -m localcloud.twin.summary --port "${url##*:}" --wait "${LOCAL_WAIT:-600}"
