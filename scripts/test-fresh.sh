#!/usr/bin/env bash
# The README's two commands on a clean Debian machine, as a new user runs them, timed.
#
#   scripts/test-fresh.sh [SUITE]        `make test-fresh`; SUITE defaults to bookworm (Debian 12)
#
# 1. A base image from Debian's archive (scripts/base-image.sh) plus what a person has
#    before reading the README: python3 python3-venv git make curl ca-certificates
#    (images/fresh). Its python3 is the distribution's own (3.11.2 on Debian 12).
# 2. A container of it with the capability set that lets Docker run inside
#    (docs/roles.md; no --privileged), its /var/lib/docker on a volume of its own.
# 3. A clone of this repository's HEAD (committed work only), then `make local` and
#    `make test`, each timed; logs in .cache/test-fresh/<suite>-<time>/.
#
# The host's CA bundle is handed to pip and npm inside (PyPI behind a TLS-intercepting
# proxy trusted only by the host): FRESH_CA_BUNDLE=path to choose it, empty for none.
# FRESH_STEPS="local" runs only `make local`. CI is passed through when set.
# The container and its volume are removed at the end, whatever happened.
set -euo pipefail
suite=${1:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ca=${FRESH_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
steps=${FRESH_STEPS:-local test}
name=autobuy-fresh-$suite-$$
logs=$root/.cache/test-fresh/$suite-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$logs"

[[ -z $(git -C "$root" status --porcelain --untracked-files=no) ]] \
  || echo "test-fresh: uncommitted changes are not part of the test (it clones HEAD $(git -C "$root" rev-parse --short HEAD))"

"$here/base-image.sh" "$suite"
"$root/images/build.sh" fresh "autobuy/fresh:$suite" "autobuy/debian:$suite"

# A clone of HEAD made here: the container could not read a git worktree's checkout (its
# .git is a file naming the main repository's directory, which is not mounted).
src=$(mktemp -d /tmp/autobuy-fresh-src.XXXXXX)
cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker volume rm -f "$name-docker" >/dev/null 2>&1 || true
  rm -rf "$src"
}
trap cleanup EXIT
git clone -q --no-local "$root" "$src/repo"
git -C "$src/repo" checkout -q --detach "$(git -C "$root" rev-parse HEAD)"

env_args=()
if [[ -n $ca ]]; then
  [[ -r $ca ]] || { echo "test-fresh: FRESH_CA_BUNDLE=$ca is not a readable file" >&2; exit 2; }
  env_args+=(-v "$ca:/etc/autobuy-host-ca.pem:ro" -e PIP_CERT=/etc/autobuy-host-ca.pem
             -e NODE_EXTRA_CA_CERTS=/etc/autobuy-host-ca.pem)
fi
[[ -n ${CI:-} ]] && env_args+=(-e "CI=$CI")

docker volume create "$name-docker" >/dev/null
docker run -d --name "$name" --hostname fresh --cap-add ALL --cap-drop SYS_RESOURCE \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined --cgroupns=host \
  --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
  -v "$name-docker:/var/lib/docker" -v "$src/repo:/src:ro" "${env_args[@]}" \
  "autobuy/fresh:$suite" sleep infinity >/dev/null
docker exec "$name" bash -c 'git config --global --add safe.directory "*" && git clone -q /src /root/autobuy-guard'
echo "test-fresh: $(docker exec "$name" bash -c '. /etc/os-release; echo "$PRETTY_NAME, $(python3 --version)"'), clone of $(git -C "$root" rev-parse --short HEAD)"

status=0
declare -A took
for step in $steps; do
  echo "test-fresh: make $step (log: $logs/$step.log)"
  start=$(date +%s)
  if docker exec -w /root/autobuy-guard "$name" make "$step" >"$logs/$step.log" 2>&1; then
    result=passed
  else
    result=FAILED; status=1
    tail -40 "$logs/$step.log" >&2
  fi
  took[$step]=$(( $(date +%s) - start ))
  echo "test-fresh: make $step $result in ${took[$step]} s"
  [[ $result == passed ]] || break
done
{ for step in $steps; do [[ -n ${took[$step]:-} ]] && echo "make $step: ${took[$step]} s"; done; } > "$logs/times.txt"
exit $status
