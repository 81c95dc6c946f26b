"""Build a Lambda function's zip byte for byte the same on every run (sorted entries of
each package, fixed dates and modes), so that Lambda's ``CodeSha256`` changes only when
the code does. Each function's ``package.py`` lists what goes in its zip and calls
:func:`main`:

    python <function>/package.py OUT.zip      (prints the zip's base64 SHA-256, as Lambda reports it)
"""
from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import sys
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

DATE = (1980, 1, 1, 0, 0, 0)
Member = tuple[str, Path]  # (name in the zip, file)


def python_package(package: ModuleType, distribution: str) -> list[Member]:
    """An installed package's sources, vendored under its own name, with its licence."""
    root = Path(str(package.__file__)).resolve().parent
    found = [(f"{package.__name__}/{path.relative_to(root).as_posix()}", path)
             for path in sorted(root.rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed")]
    # The licence travels with its copy.
    for file in importlib.metadata.distribution(distribution).files or ():
        if file.name.upper().startswith("LICENSE"):
            found.append((f"{package.__name__}/LICENSE", Path(str(file.locate())).resolve()))
    return found


def build(out: Path, members: Iterable[Member]) -> str:
    """Write the zip; its base64 SHA-256."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in members:
            info = zipfile.ZipInfo(name, DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return base64.b64encode(hashlib.sha256(out.read_bytes()).digest()).decode()


def main(members: Callable[[], list[Member]]) -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: package.py OUT.zip")
    print(build(Path(sys.argv[1]), members()))
