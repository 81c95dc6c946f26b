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
    """Run ansible-playbook from the repo root with the project's ansible.cfg (the
    collection autobuy.guard and its callbacks; ``callbacks=False`` leaves out the
    secrets_cache callback)."""
    run_env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0",
               **(env or {})}
    if not callbacks:
        run_env["ANSIBLE_CALLBACKS_ENABLED"] = "autobuy.guard.ansiballz_cache"
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory),
                           str(PLAYBOOKS / playbook), *args], cwd=ROOT, env=run_env,
                          capture_output=True, text=True, timeout=900)


def calls(url: str, service: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/localcloud/calls", timeout=5) as r:
        return json.load(r)["by_service"].get(service, {})
