"""Bench: our secrets_manager lookup against amazon.aws.aws_secret, in the same run.

    python bench/secrets_lookup.py [--hosts 3]

Starts its own local cloud on a free loopback port, creates two JSON secrets, and
runs bench/secrets_lookup.yml (50 tasks x 3 hosts, every task reading both secrets)
once per lookup. For each it prints the secret-read API calls (GetSecretValue +
BatchGetSecretValue, from the local cloud's counter GET /localcloud/calls) and the
wall time of ansible-playbook, then the ratios against the named baseline
amazon.aws.aws_secret. Target: at most 2 secret reads with ours, lower wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from localcloud import launch  # noqa: E402

BIN = Path(sys.executable).parent
PLAYBOOK = ROOT / "bench" / "secrets_lookup.yml"
READS = ("GetSecretValue", "BatchGetSecretValue")
OURS, BASELINE = "autobuy.guard.secrets_manager", "amazon.aws.aws_secret"


def calls(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/localcloud/calls", timeout=5) as reply:
        return json.load(reply)["by_service"].get("secretsmanager", {})


def reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url + "/localcloud/calls/reset", method="POST"),
                           timeout=5).close()


def create_secrets(env: dict[str, str]) -> None:
    import boto3

    sm = boto3.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                      aws_access_key_id="localcloud", aws_secret_access_key="localcloud")
    sm.create_secret(Name="bench/database", SecretString=json.dumps(
        {"host": "db", "port": 3306, "username": "app", "password": "bench-only", "dbname": "autobuy"}))
    sm.create_secret(Name="bench/app", SecretString=json.dumps({"jwt_signing_key": "bench-only-key"}))


def run(lookup: str, inventory: Path, env: dict[str, str], url: str) -> tuple[int, float]:
    reset(url)
    began = time.monotonic()
    out = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOK),
                          "-e", f"bench_lookup={lookup}"], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - began
    if out.returncode != 0:
        raise SystemExit(f"{lookup}: ansible-playbook failed\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    counted = calls(url)
    return sum(counted.get(op, 0) for op in READS), wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-secrets-") as tmp, \
            launch.running(log=Path(tmp) / "localcloud.log") as cloud:
        url = cloud.url
        env = {**os.environ, "AWS_ENDPOINT_URL": url, "AWS_REGION": "eu-central-1",
               "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "localcloud",
               # the project's ansible.cfg: the collection and its secrets_cache callback
               "AWS_SECRET_ACCESS_KEY": "localcloud", "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")}
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(key, None)
        create_secrets(env)
        inventory = Path(tmp) / "hosts.yml"
        hosts = {f"bench{n}": {} for n in range(1, args.hosts + 1)}
        inventory.write_text(json.dumps({"bench": {"hosts": hosts, "vars": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}))
        results = {name: run(name, inventory, env, url) for name in (BASELINE, OURS)}
    tasks = PLAYBOOK.read_text().count("*read") + 1
    print(f"secrets lookup bench: {tasks} tasks x {args.hosts} hosts, 2 secrets per task")
    print(f"{'lookup':<24}{'secret reads':>14}{'wall s':>10}")
    for name, (reads, wall) in results.items():
        print(f"{name:<24}{reads:>14}{wall:>10.2f}")
    (base_reads, base_wall), (our_reads, our_wall) = results[BASELINE], results[OURS]
    print(f"API calls: {base_reads / max(our_reads, 1):.0f}x fewer than {BASELINE} "
          f"({our_reads} vs {base_reads}); wall time: {base_wall / our_wall:.2f}x faster")
    ok = our_reads <= 2 and our_wall < base_wall
    print("target (<= 2 reads, lower wall time):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
