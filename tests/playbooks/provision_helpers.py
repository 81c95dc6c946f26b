"""Running the provisioning playbooks against a private local cloud (tests and bench).

Each user gets its own local cloud process on a free port, so the stack's tables,
secrets and teardown never collide with other suites sharing the session cloud.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import yaml

from localcloud import launch

ROOT = Path(__file__).resolve().parents[2]
STACK_FILE = ROOT / "inventories" / "aws" / "group_vars" / "all" / "stack.yml"
BIN = Path(sys.executable).parent
REGION = "eu-central-1"
INVENTORY = ROOT / "inventories" / "local" / "hosts.yml"
_RECAP = re.compile(
    r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)",
    re.MULTILINE,
)


@dataclass
class Run:
    """Outcome of one ansible-playbook run."""

    returncode: int
    output: str
    seconds: float

    @property
    def recap(self) -> dict[str, int]:
        match = _RECAP.findall(self.output)
        if not match:
            return {}
        ok, changed, unreachable, failed, skipped = (int(x) for x in match[-1])
        return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed,
                "skipped": skipped}


@contextmanager
def private_cloud(log: Path) -> Iterator[str]:
    """Start a local cloud on a free port for the duration of the block; yield its URL.
    API state only: no twin, no container instances (provisioning tests read the API)."""
    with launch.running(log=log, settings={"LOCALCLOUD_TWIN": "off",
                                           "LOCALCLOUD_INSTANCES": "records"}) as cloud:
        yield cloud.url


def reset(url: str) -> None:
    """Wipe every resource of the local cloud."""
    req = urllib.request.Request(url + "/moto-api/reset", method="POST")
    urllib.request.urlopen(req, timeout=30).close()


def calls(url: str) -> dict:
    """The local cloud's API call counter."""
    with urllib.request.urlopen(url + "/localcloud/calls", timeout=10) as resp:
        return json.load(resp)


def reset_calls(url: str) -> None:
    req = urllib.request.Request(url + "/localcloud/calls/reset", method="POST")
    urllib.request.urlopen(req, timeout=10).close()


def playbook_env() -> dict[str, str]:
    """Environment without any AWS setting of the caller (the endpoint is an extra var)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    })
    return env


def run_playbook(playbook: str, url: str, *args: str, extra: dict | None = None,
                 timeout: int = 1200) -> Run:
    """ansible-playbook PLAYBOOK against the local cloud at URL."""
    variables = {"aws_endpoint_url": url, **(extra or {})}
    cmd = [str(BIN / "ansible-playbook"), playbook, "-i", str(INVENTORY),
           "-e", json.dumps(variables), *args]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=playbook_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start)


def client(service: str, url: str):  # noqa: ANN201 - boto3 clients are dynamically typed
    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        aws_access_key_id="localcloud", aws_secret_access_key="localcloud")


def changed_tasks(output: str) -> list[str]:
    """The TASK headers followed by a 'changed' line (for failure messages)."""
    found, task = [], ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line
        elif line.startswith("changed:") and task:
            found.append(task)
    return found


WEB_INDEX = '<!doctype html><html lang="en"><script type="module" src="/assets/index-AbCd1234.js"></script></html>'


def web_build(root: Path) -> Path:
    """A small stand-in for web/dist (the frontend tier uploads it): what Vite writes,
    hashed assets under assets/ and its manifest under .vite/ (not uploaded)."""
    (root / "assets").mkdir(parents=True)
    (root / ".vite").mkdir()
    (root / "index.html").write_text(WEB_INDEX)
    (root / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (root / "assets" / "index-AbCd1234.js").write_text("console.log(1)")
    (root / "assets" / "index-EfGh5678.css").write_text("body{margin:0}")
    (root / ".vite" / "manifest.json").write_text("{}")
    return root


def web_extra(tmp: Path) -> dict[str, str]:
    """The extra variables that give site.yml's frontend tier the stand-in build."""
    return {"autobuy_web_dist": str(web_build(tmp / "dist"))}


def stack_defaults(**change: object) -> dict:
    """stack.yml's values, with those that are templates rendered as Ansible renders them on a local cloud."""
    values = yaml.safe_load(STACK_FILE.read_text())
    domain = values["autobuy_domain"]
    values.update({
        "aws_endpoint_url": "http://127.0.0.1:4566",
        "autobuy_zone_name": domain,
        "autobuy_api_record": "api." + domain,
        "autobuy_certificate_domain": "*." + domain,
        "autobuy_mail_domain": domain,
        "autobuy_alerts_from": "alerts@" + domain,
        "autobuy_web_bucket": domain.replace(".", "-") + "-web",
        "autobuy_trail_bucket": domain.replace(".", "-") + "-cloudtrail",
        "autobuy_trail_access_log_bucket": domain.replace(".", "-") + "-cloudtrail-access",
        "autobuy_web_aliases": [domain, "www." + domain],
        "autobuy_site_url": "https://" + domain,
    })
    values.update(change)
    return values
