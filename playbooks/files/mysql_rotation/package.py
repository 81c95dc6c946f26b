"""Build the rotation function's zip: ``lambda_function.py`` and PyMySQL (vendored: Lambda's
Python runtime has boto3 but no MySQL driver), byte for byte the same on every run
(sorted entries, fixed dates and modes), so that Lambda's ``CodeSha256`` changes only
when the code does.

    python package.py OUT.zip      (prints the zip's base64 SHA-256, as Lambda reports it)
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import sys
import zipfile
from pathlib import Path

import pymysql

HERE = Path(__file__).resolve().parent
DATE = (1980, 1, 1, 0, 0, 0)


def members() -> list[tuple[str, Path]]:
    found = [("lambda_function.py", HERE / "lambda_function.py")]
    package = Path(pymysql.__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed"):
            found.append((f"pymysql/{path.relative_to(package).as_posix()}", path))
    # PyMySQL's licence (MIT) travels with its copy.
    for file in importlib.metadata.distribution("PyMySQL").files or ():
        if file.name.upper().startswith("LICENSE"):
            found.append(("pymysql/LICENSE", Path(str(file.locate())).resolve()))
    return found


def build(out: Path) -> str:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in members():
            info = zipfile.ZipInfo(name, DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return base64.b64encode(hashlib.sha256(out.read_bytes()).digest()).decode()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: package.py OUT.zip")
    print(build(Path(sys.argv[1])))
