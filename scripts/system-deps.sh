#!/usr/bin/env bash
# Make sure the system packages and services a make target needs are present.
#
#   scripts/system-deps.sh NEED...     NEED: python docker debootstrap mariadb node
#
# As root on Debian/Ubuntu it installs what is missing from the distribution's
# archive (apt-get) and starts the Docker engine when it is not running. As
# anyone else, or elsewhere, it prints exactly what is missing and exits 1.
set -euo pipefail

declare -A PKG=(
  [python]="python3-venv"
  [docker]="docker.io"
  [debootstrap]="debootstrap"
  [mariadb]="mariadb-server"
  [node]="nodejs npm"
)
declare -A PROBE=(
  [python]="python3 -c 'import venv, ensurepip'"
  [docker]="command -v dockerd && command -v docker"
  [debootstrap]="command -v debootstrap"
  [mariadb]="command -v mariadbd || test -x /usr/sbin/mariadbd"
  # web/ builds on Node 18.18+ (Debian 12's nodejs is 18.20) with its npm.
  [node]="command -v npm && node -e 'const [a,b]=process.versions.node.split(\".\").map(Number); process.exit(a>18||(a===18&&b>=18)?0:1)'"
)

missing=()
for need in "$@"; do
  [[ -n "${PKG[$need]:-}" ]] || { echo "system-deps: unknown need '$need'" >&2; exit 2; }
  read -ra pkgs <<<"${PKG[$need]}"
  eval "${PROBE[$need]}" >/dev/null 2>&1 || missing+=("${pkgs[@]}")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "system-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "system-deps: missing system packages: ${missing[*]}" >&2
    echo "system-deps: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# The Docker engine must also be running, not just installed.
for need in "$@"; do
  [[ $need == docker ]] || continue
  if ! docker info >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "system-deps: the Docker engine is not running (start it: sudo systemctl start docker)" >&2
      exit 1
    fi
    if [[ -d /run/systemd/system ]]; then
      systemctl start docker
    else
      mkdir -p /var/log
      echo "system-deps: starting dockerd (log: /var/log/dockerd.log)"
      nohup dockerd >/var/log/dockerd.log 2>&1 &
    fi
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { echo "system-deps: dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
  fi
done
