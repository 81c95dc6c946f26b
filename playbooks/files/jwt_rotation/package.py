"""Build the JWT rotation function's zip: ``lambda_function.py``, the protocol steps it
shares with the MySQL function (``../rotation_protocol.py``) and the keyring steps
(``plugins/plugin_utils/jwt_keyring.py``, the filter's own, as ``jwt_keyring.py``), byte
for byte the same on every run (../lambda_zip.py).

    python package.py OUT.zip      (prints the zip's base64 SHA-256, as Lambda reports it)
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))
import lambda_zip  # noqa: E402  (playbooks/files/lambda_zip.py)


def members() -> list[lambda_zip.Member]:
    return [("jwt_keyring.py", ROOT / "plugins/plugin_utils/jwt_keyring.py"),
            ("lambda_function.py", HERE / "lambda_function.py"),
            ("rotation_protocol.py", HERE.parent / "rotation_protocol.py")]


if __name__ == "__main__":
    lambda_zip.main(members)
