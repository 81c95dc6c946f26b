"""Helpers of the local cloud's tests: start and stop extra local cloud servers
(through ``localcloud.launch``, the one starter of the CLI, the suite and the benches)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from localcloud.launch import ROOT, free_port, start, stop_process  # noqa: F401 - re-exported


def start_server(log: Path, settings: dict[str, str]) -> tuple[str, subprocess.Popen]:
    """Start ``python -m localcloud serve`` with extra settings; (url, process)."""
    cloud = start(settings=settings, log=log)
    return cloud.url, cloud.process


def stop_server(proc: subprocess.Popen) -> None:
    stop_process(proc, timeout=30)
