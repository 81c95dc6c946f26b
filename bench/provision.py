#!/usr/bin/env python3
"""Provisioning bench: site.yml and teardown.yml against a fresh local cloud.

Measures, in one run on a private local cloud (default slow-resource delays: RDS 8 s,
ALB 5 s, ACM 5 s):

1. cold converge (autobuy_concurrent=true) on an empty cloud, with the controller's
   caches empty too (module payloads, warm module server),
2. idempotent re-run,
3. teardown,
4. the serial baseline: a cold converge with autobuy_concurrent=false, and again the
   concurrent converge under the same (warm) conditions, printing serial/concurrent.

Each figure comes with the API calls the local cloud counted (GET /localcloud/calls).

    .venv/bin/python bench/provision.py [--json bench/results/provision.json]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "playbooks"))
sys.path.insert(0, str(ROOT))  # localcloud, which provision_helpers starts

from provision_helpers import (  # noqa: E402
    calls, private_cloud, reset, reset_calls, run_playbook,
)

TARGETS = {"cold converge": 60.0, "idempotent re-run": 20.0, "teardown": 45.0}
RATIO_TARGET = 1.5


@dataclass
class Figure:
    name: str
    seconds: float
    cpu_seconds: float
    api_calls: int
    changed: int
    failed: int


def warm_server_cpu() -> float:
    """CPU seconds of the warm_local module servers and their finished module runs
    (they are not this process's children, so RUSAGE_CHILDREN misses them)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if b"warm_python.py" not in (stat.parent / "cmdline").read_bytes():
                continue
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime (fields 14-17 of proc(5); 12-15 after the name)
        total += sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def stop_warm_servers(tmp: str) -> None:
    """Stop the warm module server this bench started (its socket is under ``tmp``)."""
    subprocess.run(["pkill", "-TERM", "-f", f"warm_python.py {tmp}/"], check=False)


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by finished child processes, plus the
    warm module servers' share."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + warm_server_cpu()


def measure(name: str, url: str, playbook: str, extra: dict | None = None) -> Figure:
    reset_calls(url)
    cpu = children_cpu()
    run = run_playbook(playbook, url, extra=extra)
    cpu = children_cpu() - cpu
    recap = run.recap
    if run.returncode != 0 or recap.get("failed", 1):
        sys.stderr.write(run.output[-5000:])
        raise SystemExit(f"{name}: {playbook} failed")
    figure = Figure(name, round(run.seconds, 1), round(cpu, 1), calls(url)["total"],
                    recap["changed"], recap["failed"])
    print(f"{figure.name:<28} {figure.seconds:7.1f} s wall  {figure.cpu_seconds:6.1f} s CPU  "
          f"{figure.api_calls:5d} API calls  changed={figure.changed}", flush=True)
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    # The controller starts cold too: a private ANSIBLE_HOME (no cached module payloads,
    # see autobuy.guard.ansiballz_cache) and TMPDIR (no warm module server, see
    # autobuy.guard.warm_local). Later runs find both, as on a real controller.
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="bp") as tmp, \
            private_cloud(Path(tmp) / "localcloud.log") as url:
        os.environ["ANSIBLE_HOME"] = str(Path(tmp) / "ansible-home")
        os.environ["TMPDIR"] = tmp
        print(f"local cloud {url}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
              "controller caches empty")
        figures = [
            measure("cold converge", url, "site.yml"),
            measure("idempotent re-run", url, "site.yml"),
            measure("teardown", url, "teardown.yml"),
        ]
        reset(url)
        serial = measure("serial converge (baseline)", url, "site.yml", {"autobuy_concurrent": False})
        reset(url)
        concurrent = measure("concurrent converge", url, "site.yml", {"autobuy_concurrent": True})
        reset(url)
        stop_warm_servers(tmp)
    ratio = serial.seconds / concurrent.seconds
    print(f"\nload average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(CPU seconds are the playbooks' own, whatever else runs on the machine)")
    for figure in figures:
        target = TARGETS[figure.name]
        verdict = "ok" if figure.seconds <= target else "MISSED"
        print(f"{figure.name:<28} {figure.seconds:7.1f} s  (target <= {target:.0f} s: {verdict})")
    verdict = "ok" if ratio >= RATIO_TARGET else "MISSED"
    print(f"{'concurrent vs serial':<28} {ratio:7.2f} x  (serial {serial.seconds:.1f} s / concurrent "
          f"{concurrent.seconds:.1f} s; target >= {RATIO_TARGET} x: {verdict})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "figures": [asdict(f) for f in [*figures, serial, concurrent]],
            "concurrent_vs_serial": round(ratio, 2),
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
