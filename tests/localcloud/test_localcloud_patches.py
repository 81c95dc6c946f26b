"""The registry of patches (localcloud/extensions.py): every module of localcloud/ext/ in
it once, with its kind and moto version; another moto version is refused by name unless
allowed; LOCALCLOUD_SPEED_PATCHES=off leaves the speed patches out."""
from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from localcloud import extensions
from localcloud.extensions import PATCHES
from localcloud_helpers import ROOT

EXT = ROOT / "localcloud" / "ext"
NAMES = [str(p) for p in PATCHES]
SPEED = [str(p) for p in PATCHES if p.kind == "speed"]
INSTALLED = importlib.metadata.version("moto")


def test_every_module_is_registered_once_in_its_kind_folder() -> None:
    files = sorted(f"{path.parent.name}/{path.stem}" for path in EXT.glob("*/*.py")
                   if path.name != "__init__.py")
    assert sorted(NAMES) == files
    assert len(set(NAMES)) == len(NAMES)
    assert {path.name for path in EXT.glob("*.py")} == {"__init__.py"}  # nothing outside a kind
    for patch in PATCHES:
        assert callable(importlib.import_module(patch.module).apply), patch


def test_fidelity_first_then_speed() -> None:
    kinds = [p.kind for p in PATCHES]
    assert kinds == sorted(kinds, key=("fidelity", "speed").index)
    assert SPEED and "speed" not in kinds[: kinds.index("speed")]


def test_a_module_left_out_of_the_registry_stops_the_start(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for relative in ("__init__.py", "fidelity/__init__.py", "fidelity/acm_dns_validation.py",
                     "fidelity/sqs_new_gap.py", "speed/__init__.py", "zz_gaps.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    assert extensions.unregistered(tmp_path) == ["localcloud/ext/fidelity/sqs_new_gap.py",
                                                 "localcloud/ext/zz_gaps.py"]
    monkeypatch.setattr(extensions, "_EXT", tmp_path)
    with pytest.raises(SystemExit, match=r"fidelity/sqs_new_gap\.py, localcloud/ext/zz_gaps\.py"):
        extensions.check(installed=INSTALLED)


def test_the_installed_moto_is_the_one_every_patch_was_written_for() -> None:
    assert extensions.check() == ()
    assert {p.moto for p in PATCHES} == {INSTALLED}


def test_another_moto_version_is_refused_naming_the_affected_patches(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCALCLOUD_ALLOW_MOTO_VERSION", raising=False)
    with pytest.raises(SystemExit) as refused:
        extensions.check(installed="99.0.0", speed=True)
    message = str(refused.value)
    assert "moto 99.0.0 is installed" in message
    assert "LOCALCLOUD_ALLOW_MOTO_VERSION=99.0.0" in message
    for name in NAMES:
        assert f"{name} (moto " in message
    with pytest.raises(SystemExit) as refused:
        extensions.check(installed="99.0.0", speed=False)
    assert not [name for name in SPEED if name in str(refused.value)]  # not applied, not affected


def test_allowing_the_installed_version_starts_with_the_patches_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALCLOUD_ALLOW_MOTO_VERSION", "99.0.0")
    assert [str(p) for p in extensions.check(installed="99.0.0", speed=True)] == NAMES
    monkeypatch.setenv("LOCALCLOUD_ALLOW_MOTO_VERSION", "98.0.0")  # allows another version only
    with pytest.raises(SystemExit, match="moto 99.0.0 is installed"):
        extensions.check(installed="99.0.0", speed=True)


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT), **env})


FAKE_MOTO_VERSION = """
import importlib.metadata, sys
real = importlib.metadata.version
importlib.metadata.version = lambda name: "99.0.0" if name == "moto" else real(name)
from localcloud.__main__ import main
sys.exit(main(["serve", "--port", "1"]))
"""


def test_the_server_refuses_another_moto_version_before_serving() -> None:
    proc = _python(FAKE_MOTO_VERSION)
    assert proc.returncode != 0
    assert "moto 99.0.0 is installed" in proc.stderr
    assert "fidelity/dynamodb_table_id (moto " in proc.stderr
    assert "serving" not in proc.stdout + proc.stderr


INSTALLED_INTO_MOTO = """
import json
from localcloud import extensions
applied = [str(p) for p in extensions.apply()]
from moto.core import serialize
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
print(json.dumps({"applied": applied, "markers": {
    "fidelity/dynamodb_table_id": getattr(Table.describe, "_localcloud", False),
    "fidelity/dynamodb_atomic_writes": getattr(DynamoHandler.put_item, "_localcloud", False),
    "speed/dynamodb_query_index": getattr(DynamoHandler.call_action, "_localcloud", False),
    "speed/dynamodb_fast_serializer": "json" in serialize.SERVICE_SPECIFIC_SERIALIZERS.get(
        "dynamodb", {}),
    "speed/dynamodb_item_tracking": "__new__" in Item.__dict__,
}}))
"""


@pytest.mark.parametrize("speed", ["on", "off"])
def test_speed_setting_decides_what_is_installed_into_moto(speed: str) -> None:
    proc = _python(INSTALLED_INTO_MOTO, LOCALCLOUD_SPEED_PATCHES=speed)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    expected = NAMES if speed == "on" else [n for n in NAMES if n not in SPEED]
    assert result["applied"] == expected
    assert result["markers"] == {name: name.startswith("fidelity") or speed == "on"
                                 for name in result["markers"]}


def _patches(url: str) -> dict:
    with urllib.request.urlopen(url + "/localcloud/patches", timeout=10) as resp:
        return json.load(resp)


def test_the_server_tells_its_patches(localcloud: str, localcloud_speed_off: str) -> None:
    on, off = _patches(localcloud), _patches(localcloud_speed_off)
    assert on["moto"] == off["moto"] == INSTALLED
    assert (on["speed_patches"], off["speed_patches"]) == ("on", "off")
    assert [f"{p['kind']}/{p['name']}" for p in on["applied"]] == NAMES
    assert [f"{p['kind']}/{p['name']}" for p in off["applied"]] == [
        n for n in NAMES if n not in SPEED]
    assert {p["moto"] for p in on["applied"]} == {INSTALLED}


# Walks a patched function down to moto's, through each wrapper's closure.
_CHAIN = """
import importlib
from localcloud import extensions
from moto.rds.models import RDSBackend
for patch in extensions.selected():
    importlib.import_module(patch.module).apply()
function, files = RDSBackend.create_db_instance, []
while function is not None:
    files.append(function.__code__.co_filename.rsplit("/", 1)[-1])
    inner = [c.cell_contents for c in function.__closure__ or ()
             if callable(c.cell_contents) and getattr(c.cell_contents, "__name__", "") == "create_db_instance"]
    function = getattr(function, "__wrapped__", None) or (inner[0] if inner else None)
print(" ".join(files))
"""


def test_on_the_twin_every_rds_patch_wraps_create_db_instance() -> None:
    """Patches that wrap one moto function must not take each other for themselves: with
    the default mark, rds_certificates once made rds_database skip (no database container
    on the twin, make local failed)."""
    env = {**os.environ, "LOCALCLOUD_TWIN": "on", "PYTHONPATH": str(ROOT)}
    chain = subprocess.run([sys.executable, "-c", _CHAIN], env=env, capture_output=True, text=True,
                           check=True, cwd=ROOT).stdout.split()
    assert chain == ["rds_backups.py", "rds_database.py", "rds_certificates.py", "models.py"]
