#!/usr/bin/env python3
"""Wait until a container without a port has stayed running for N seconds.

    wait_steady.py CONTAINER STEADY_SECONDS TIMEOUT_SECONDS

The health criterion of the price-engine worker, which serves nothing: it is
healthy once it has been running for STEADY_SECONDS since its last start,
with no restart while we watch. Exit 0 (prints its uptime) then; exit 1 with
the reason on stderr when it stops, restarts (a crash under a restart policy)
or TIMEOUT_SECONDS pass. Runs on the instance (python3 >= 3.6, docker CLI).
"""
from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import time


def inspect(container: str) -> dict | None:
    """`docker inspect` of the container, or None when there is none."""
    out = subprocess.run(
        ["docker", "inspect", container],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, check=False,
    )
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)[0]


def parse_time(text: str) -> datetime.datetime:
    """Docker's RFC 3339 time (nanoseconds, Z) as an aware datetime."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$",
                     text)
    if not match:
        raise ValueError(f"unexpected time format: {text}")
    base, fraction, zone = match.groups()
    micro = (fraction or "0").ljust(6, "0")[:6]
    zone = "+00:00" if zone == "Z" else zone
    return datetime.datetime.fromisoformat(f"{base}.{micro}{zone}")


def main(container: str, steady: float, timeout: float) -> int:
    start = time.monotonic()
    first_restarts = None
    while time.monotonic() - start < timeout:
        info = inspect(container)
        if info is None:
            print("container not found", file=sys.stderr)
            return 1
        state, restarts = info["State"], info["RestartCount"]
        if first_restarts is None:
            first_restarts = restarts
        desc = (f"{state['Status']} exit={state['ExitCode']} restarts={restarts}")
        if not state["Running"] or state["Restarting"] or restarts > first_restarts:
            print(f"the container did not stay running ({desc})", file=sys.stderr)
            return 1
        now = datetime.datetime.now(datetime.timezone.utc)
        uptime = (now - parse_time(state["StartedAt"])).total_seconds()
        if uptime >= steady:
            print(f"{uptime:.1f}")
            return 0
        time.sleep(min(1.0, steady - uptime + 0.1))
    print(f"not {steady:.0f} s steady within {timeout:.0f} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
