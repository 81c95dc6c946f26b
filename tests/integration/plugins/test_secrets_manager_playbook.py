"""The secrets_manager lookup in real playbook runs: one read per secret per run."""
from __future__ import annotations

import glob
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from playbook_harness import playbook, write_inventory  # type: ignore[import-not-found]

pytestmark = [pytest.mark.slow, pytest.mark.playbook]
PASSWORD = "pw-" + uuid.uuid4().hex


@pytest.fixture
def secrets(localcloud: str) -> dict[str, str]:
    sm = boto3.client("secretsmanager")
    db, app = f"it/db-{uuid.uuid4().hex[:6]}", f"it/app-{uuid.uuid4().hex[:6]}"
    sm.create_secret(Name=db, SecretString=json.dumps({"host": "db", "port": 3306, "password": PASSWORD}))
    sm.create_secret(Name=app, SecretString=json.dumps({"jwt_signing_key": PASSWORD, "template": "{{ 6 * 7 }}"}))
    return {"it_db": db, "it_app": app}


def reads(counted: dict[str, int]) -> int:
    return counted.get("GetSecretValue", 0) + counted.get("BatchGetSecretValue", 0)


def test_one_read_per_secret_across_tasks_hosts_and_forks(
        secrets: dict[str, str], counter: Any, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "hosts.json", ["h1", "h2", "h3"], **secrets)
    sockets_before = set(glob.glob(f"{tempfile.gettempdir()}/autobuy-secrets-*"))
    out = playbook("secrets_many_tasks.yml", inventory, "-v", "--forks", "10")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "ok=13" in out.stdout and "failed=0" in out.stdout
    assert "port=3306 app_keys=2" in out.stdout
    assert reads(counter()) == 2, counter()
    assert PASSWORD not in out.stdout + out.stderr
    # the cache's private directory is gone with the run
    assert set(glob.glob(f"{tempfile.gettempdir()}/autobuy-secrets-*")) == sockets_before


def test_without_the_callback_every_worker_reads_again(
        secrets: dict[str, str], counter: Any, tmp_path: Path) -> None:
    """The baseline the callback removes: forks do not share a per-process cache."""
    inventory = write_inventory(tmp_path / "hosts.json", ["h1", "h2", "h3"], **secrets)
    out = playbook("secrets_many_tasks.yml", inventory, callbacks=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert reads(counter()) > 30


def test_missing_secret_fails_the_task_clearly(secrets: dict[str, str], tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "hosts.json", ["h1"], **{**secrets, "it_db": "it/does-not-exist"})
    out = playbook("secrets_many_tasks.yml", inventory)
    assert out.returncode != 0
    assert "secret 'it/does-not-exist' was not found (ResourceNotFoundException)" in out.stdout
