"""The warm_local connection in real playbook runs: the same results as `local`, with
Python modules served by the fork server once it is up."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from playbook_harness import playbook, write_inventory  # type: ignore[import-not-found]

pytestmark = [pytest.mark.slow, pytest.mark.playbook]


EXPECTED = {"commands": ["run 1 from-the-task", "run 2 from-the-task", "run 3 from-the-task"],
            "ping": "pong-localhost", "failure_rc": 1, "async_finished": True, "async_rc": 0}


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """Private directory of the run's warm server (socket paths must be short)."""
    path = Path(tempfile.mkdtemp(prefix="wlp", dir="/tmp"))
    yield path
    subprocess.run(["pkill", f"-{signal.SIGTERM.value}", "-f", f"warm_python.py {path}/"], check=False)
    shutil.rmtree(path, ignore_errors=True)


def result(path: Path) -> dict:
    return json.loads(path.read_text())


def test_warm_runs_give_the_same_results_as_local(tmp_path: Path, short_tmp: Path) -> None:
    env = {"AUTOBUY_WARM_PYTHON_DIR": str(short_tmp / "w")}
    runs = {}
    for connection in ("ansible.builtin.local", "autobuy.guard.warm_local", "autobuy.guard.warm_local"):
        inventory = write_inventory(tmp_path / f"{connection}.json", ["localhost"], ansible_connection=connection)
        out = tmp_path / f"result-{len(runs.get(connection, []))}-{connection}.json"
        run = playbook("warm_local.yml", inventory, "-vvv", "-e", f"warm_result_file={out}", env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        assert result(out) == EXPECTED
        runs.setdefault(connection, []).append(run.stdout)
    assert "WARM EXEC" not in runs["ansible.builtin.local"][0]
    # The first warm run starts the server; the second finds it and uses it throughout.
    second = runs["autobuy.guard.warm_local"][1]
    assert second.count("WARM EXEC") >= 6, second
    assert "running cold" not in second
    assert list(short_tmp.glob("w/*.sock"))


def test_warm_can_be_turned_off(tmp_path: Path, short_tmp: Path) -> None:
    inventory = write_inventory(tmp_path / "inv.json", ["localhost"], ansible_connection="autobuy.guard.warm_local",
                                autobuy_warm_python=False)
    out = tmp_path / "result.json"
    run = playbook("warm_local.yml", inventory, "-vvv", "-e", f"warm_result_file={out}",
                   env={"AUTOBUY_WARM_PYTHON_DIR": str(short_tmp / "w")})
    assert run.returncode == 0, run.stdout + run.stderr
    assert result(out) == EXPECTED
    assert "WARM EXEC" not in run.stdout and "WARM PYTHON" not in run.stdout
    assert not list(short_tmp.glob("w/*.sock"))
