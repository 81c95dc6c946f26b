#!/usr/bin/env python3
"""Wait until a container's HTTP health path answers 200; fail fast if it dies.

    wait_healthy.py URL CONTAINER TIMEOUT_SECONDS

Exit 0 (prints the seconds it took) once URL answers 200; exit 1 with the
reason on stderr when the container stops running (its exit code and restart
count are reported) or TIMEOUT_SECONDS pass. Runs on the instance (python3,
docker CLI), so the port mapping itself is exercised.
"""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request


def answer(url: str) -> str:
    """The health path's status code, or why there was none."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return str(response.status)
    except urllib.error.HTTPError as exc:
        return str(exc.code)
    except urllib.error.URLError as exc:
        return str(exc.reason)
    except OSError as exc:
        return str(exc)


def state(container: str) -> tuple[bool, str]:
    """(running, description) of the container from docker inspect."""
    out = subprocess.run(
        ["docker", "inspect", "-f",
         "{{.State.Running}} {{.State.Status}} exit={{.State.ExitCode}} "
         "restarts={{.RestartCount}}", container],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        return False, "container not found"
    running, _sep, rest = out.stdout.strip().partition(" ")
    return running == "true", rest


def main(url: str, container: str, timeout: float) -> int:
    start = time.monotonic()
    last = "no answer yet"
    while time.monotonic() - start < timeout:
        last = answer(url)
        if last == "200":
            print(f"{time.monotonic() - start:.1f}")
            return 0
        running, desc = state(container)
        if not running:
            print(f"the container stopped ({desc}); last answer: {last}", file=sys.stderr)
            return 1
        time.sleep(1)
    print(f"no 200 within {timeout:.0f} s; last answer: {last}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
