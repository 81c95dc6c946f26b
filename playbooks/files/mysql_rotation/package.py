"""Build the rotation function's zip: ``lambda_function.py``, the protocol steps it shares
with the JWT function (``../rotation_protocol.py``) and PyMySQL (vendored: Lambda's Python
runtime has boto3 but no MySQL driver), byte for byte the same on every run
(../lambda_zip.py).

    python package.py OUT.zip      (prints the zip's base64 SHA-256, as Lambda reports it)
"""
from __future__ import annotations

import sys
from pathlib import Path

import pymysql

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import lambda_zip  # noqa: E402  (playbooks/files/lambda_zip.py)


def members() -> list[lambda_zip.Member]:
    return [("lambda_function.py", HERE / "lambda_function.py"),
            ("rotation_protocol.py", HERE.parent / "rotation_protocol.py"),
            *lambda_zip.python_package(pymysql, "PyMySQL")]


if __name__ == "__main__":
    lambda_zip.main(members)
