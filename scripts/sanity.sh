#!/usr/bin/env bash
# `ansible-test sanity` on the collection autobuy.guard, for each supported controller
# Python (3.11, 3.12, 3.13) found on this machine. `make lint` runs it.
#
#   scripts/sanity.sh [ansible-test sanity options...]     e.g. --test pep8
#
# - Runs on a clean copy: the artefact of `ansible-galaxy collection build` (exactly
#   what ships, galaxy.yml build_ignore applied) unpacked into a temporary
#   ansible_collections/autobuy/guard, plus tests/sanity/ and tests/config.yml. The
#   working tree's own files (a virtualenv, tests/output, the app, the local cloud)
#   never reach ansible-test.
# - ansible-test bootstraps each test's virtualenv with get-pip-<version>.py from
#   Ansible's CI file host, which these machines cannot reach. It uses a cached copy
#   in ~/.ansible/test/cache/ when there is one: this script writes a stand-in there
#   that runs ensurepip and then `pip install` with the arguments ansible-test gives
#   (plus the system CA bundle: the bootstrapped pip does not read pip's settings).
#   The sanity requirements themselves come from PyPI.
# - A Python that is missing is skipped with a note; under CI=true it is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
VERSIONS=(3.11 3.12 3.13)

[[ -x $BIN/ansible-test ]] || { echo "sanity: $BIN/ansible-test missing; run make setup" >&2; exit 1; }

# ansible-test's pinned pip version (the bootstrap script it asks for is named after it).
core=$("$BIN/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$core/_internal/python_requirements.py" | head -n1)
[[ -n $pip_version ]] || { echo "sanity: cannot find ansible-test's pip version in $core/_internal/python_requirements.py" >&2; exit 1; }
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
standin=$cache/get_pip_${pip_version//./_}.py
cat > "$standin.tmp" <<'PY'
"""Offline stand-in for get-pip.py (written by autobuy.guard's scripts/sanity.sh):
ensurepip, then `pip install` of what ansible-test asked for, from the configured index."""
import os
import subprocess
import sys

CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")
# pip's CA bundle where sanity.sh ran (PIP_CERT or pip's own setting): ansible-test runs
# this script with an environment of its own, without PIP_CERT.
CERT_AT_WRITE = None

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
cert = (os.environ.get("PIP_CERT") or CERT_AT_WRITE
        or next((c for c in CA_BUNDLES if os.path.exists(c)), None))
if cert:
    args = ["--cert", cert, *args]
    # ansible-test's later `pip install -r requirements` in this virtualenv run without
    # PIP_CERT too: pip reads the virtualenv's own pip.conf.
    with open(os.path.join(sys.prefix, "pip.conf"), "w") as conf:
        conf.write(f"[global]\ncert = {cert}\n")
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *args]))
PY
pip_cert=${PIP_CERT:-$("$BIN/python" -m pip config get global.cert 2>/dev/null || true)}
if [[ -n $pip_cert ]]; then
  literal=$("$BIN/python" -c 'import sys; print(repr(sys.argv[1]))' "$pip_cert")
  "$BIN/python" - "$standin.tmp" "$literal" <<'EDIT'
import sys
path, literal = sys.argv[1], sys.argv[2]
text = open(path).read().replace("CERT_AT_WRITE = None\n", f"CERT_AT_WRITE = {literal}\n", 1)
open(path, "w").write(text)
EDIT
fi
mv "$standin.tmp" "$standin"

# Interpreters: python3.X on PATH when it runs, else pyenv's.
shims=$(mktemp -d -t autobuy-sanity-bin.XXXXXX)
work=$(mktemp -d -t autobuy-sanity.XXXXXX)
trap 'rm -rf "$shims" "$work"' EXIT
found=()
for v in "${VERSIONS[@]}"; do
  py=""
  if command -v "python$v" >/dev/null && "python$v" -c 'import venv' >/dev/null 2>&1; then
    py=$("python$v" -c 'import sys; print(sys.executable)')
  else
    for cand in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v"; do
      [[ -x $cand ]] && py=$cand
    done
  fi
  if [[ -z $py ]]; then
    if [[ ${CI:-} == true ]]; then
      echo "sanity: Python $v not found (CI requires every supported version: ${VERSIONS[*]})" >&2
      exit 1
    fi
    echo "sanity: Python $v not found on this machine; skipped (CI runs it)"
    continue
  fi
  ln -s "$py" "$shims/python$v"
  found+=("$v")
done
((${#found[@]})) || { echo "sanity: none of Python ${VERSIONS[*]} found" >&2; exit 1; }

# The clean copy: the built artefact, plus the sanity configuration.
"$BIN/ansible-galaxy" collection build --force --output-path "$work/dist" "$ROOT" >/dev/null
tree=$work/ansible_collections/autobuy/guard
mkdir -p "$tree"
tar -xzf "$work"/dist/autobuy-guard-*.tar.gz -C "$tree"
mkdir -p "$tree/tests"
cp -R tests/sanity "$tree/tests/"
cp tests/config.yml "$tree/tests/"

cd "$tree"
export PATH="$shims:$PATH"
for v in "${found[@]}"; do
  echo "== ansible-test sanity --python $v"
  start=$(date +%s)
  "$BIN/ansible-test" sanity --venv --python "$v" --color no "$@"
  echo "== Python $v: $(( $(date +%s) - start )) s"
done
