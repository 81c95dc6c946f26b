#!/usr/bin/env bash
# Refuse a Python older than the oldest one we support, saying what to install.
#
#   scripts/require-python.sh MIN PYTHON      e.g. scripts/require-python.sh 3.11.2 python3
#
# Runs before the virtualenv exists, with whatever PYTHON is (even Python 2), so the
# version is only printed by the interpreter and compared here.
set -euo pipefail
min=${1:?usage: require-python.sh MIN PYTHON}
python=${2:?usage: require-python.sh MIN PYTHON}
supported="Debian 12 (Python 3.11.2), Debian 13 (3.13), Ubuntu 24.04 (3.12)"

if ! found=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null); then
  echo "setup: no Python interpreter at '$python'." >&2
  echo "setup: install python3 and python3-venv (supported: $supported), or name one: make setup PYTHON=/path/to/python3" >&2
  exit 1
fi
if [[ $(printf '%s\n%s\n' "$min" "$found" | sort -V | head -n1) != "$min" ]]; then
  echo "setup: $python is Python $found; AutoBuy Guard needs Python $min or newer." >&2
  echo "setup: supported systems: $supported. Install a newer python3 with python3-venv" >&2
  echo "setup: (or upgrade to a supported release) and run again, or name it: make setup PYTHON=/path/to/python3.12" >&2
  exit 1
fi
