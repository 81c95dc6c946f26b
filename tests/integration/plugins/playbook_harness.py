"""Harness of the playbook-level plugin tests (slow: each runs ansible-playbook)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any


ROOT = Path(__file__).resolve().parents[3]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins"))


def write_inventory(path: Path, hosts: list[str], **group_vars: Any) -> Path:
    path.write_text(json.dumps({"targets": {"hosts": {h: {} for h in hosts}, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, **group_vars}}}))
    return path


def playbook(playbook: str, inventory: Path, *args: str, callbacks: bool = True,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ansible-playbook from the repo root with the project's ansible.cfg.

    ansible.cfg should name plugins/callback and plugins/action; until it does, the
    same settings come from the environment here.
    """
    run_env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0",
               "ANSIBLE_ACTION_PLUGINS": str(ROOT / "plugins" / "action"), **(env or {})}
    if callbacks:
        run_env["ANSIBLE_CALLBACK_PLUGINS"] = str(ROOT / "plugins" / "callback")
    else:  # an empty directory: the project's callbacks are not found
        run_env["ANSIBLE_CALLBACK_PLUGINS"] = str(inventory.parent / "no-callbacks")
        (inventory.parent / "no-callbacks").mkdir(exist_ok=True)
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory),
                           str(PLAYBOOKS / playbook), *args], cwd=ROOT, env=run_env,
                          capture_output=True, text=True, timeout=900)


def calls(url: str, service: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/localcloud/calls", timeout=5) as r:
        return json.load(r)["by_service"].get(service, {})
