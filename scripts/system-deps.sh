#!/usr/bin/env bash
# Make sure the system packages and services a make target needs are present.
#
#   scripts/system-deps.sh NEED...     NEED: python docker debootstrap mariadb node chromium
#
# As root on Debian/Ubuntu it installs what is missing from the distribution's
# archive (apt-get) and starts the Docker engine when it is not running. As
# anyone else, or elsewhere, it prints exactly what is missing and exits 1.
set -euo pipefail

# One row per need: the Debian packages that provide it, " : ", the probe that says it is there.
declare -A NEED=(
  [python]="python3-venv : python3 -c 'import venv, ensurepip'"
  [docker]="docker.io : command -v dockerd && command -v docker"
  [debootstrap]="debootstrap : command -v debootstrap"
  [mariadb]="mariadb-server : command -v mariadbd || test -x /usr/sbin/mariadbd"
  # web/ builds on Node 18.18+ (Debian 12's nodejs is 18.20) with its npm.
  # Lighthouse and the browser benches drive Debian's own chromium (a tool's browser download fails offline).
  [chromium]="chromium : command -v chromium"
  [node]="nodejs npm : command -v npm && node -e 'const [a,b]=process.versions.node.split(\".\").map(Number); process.exit(a>18||(a===18&&b>=18)?0:1)'"
)

missing=()
for need in "$@"; do
  [[ -n "${NEED[$need]:-}" ]] || { echo "system-deps: unknown need '$need'" >&2; exit 2; }
  read -ra pkgs <<<"${NEED[$need]%% : *}"
  eval "${NEED[$need]#* : }" >/dev/null 2>&1 || missing+=("${pkgs[@]}")
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
