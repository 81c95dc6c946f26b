"""EC2: Debian 12 (bookworm) and 13 (trixie) AMIs in every region.

moto knows Amazon's images but not Debian's (owner ``136693071363``). The
project's instances run Debian and resolve their AMI by owner + name filter
(``debian-12-amd64-*``), so the local cloud registers images with the names,
owner and architectures Debian publishes (``localcloud/debian_amis.json``,
moto's AMI format), next to moto's own images. ``MOTO_AMIS_PATH`` is left alone:
setting it would replace moto's default images instead of adding to them.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from botocore.utils import parse_timestamp
from moto.ec2.models.amis import Ami, AmiBackend

from localcloud import patching

AMIS_FILE = Path(__file__).resolve().parents[2] / "debian_amis.json"
DEBIAN_OWNER = "136693071363"


def load_definitions(path: Path = AMIS_FILE) -> list[dict[str, Any]]:
    """The Debian image definitions, checked for the fields moto needs."""
    definitions = json.loads(path.read_text())
    for item in definitions:
        missing = {"ami_id", "name", "owner_id", "architecture", "creation_date"} - item.keys()
        if missing:
            raise ValueError(f"{path}: image {item.get('name')!r} lacks {sorted(missing)}")
    return definitions


def _with_debian_amis(original: Any) -> Any:
    definitions = load_definitions()

    def _load_amis(self: AmiBackend) -> None:
        original(self)
        for item in copy.deepcopy(definitions):
            item["creation_date"] = parse_timestamp(item["creation_date"])
            item["owner_alias"] = item.get("owner_alias") or None
            self.amis[item["ami_id"]] = Ami(self, **item)

    return _load_amis


def apply() -> None:
    patching.wrap(AmiBackend, "_load_amis", _with_debian_amis)
