"""Start a local cloud server process and wait until it answers.

The one way to do it, used by the command line (``python -m localcloud start``), the
test suite's fixtures and the benches: runs ``python -m localcloud serve --port PORT``
from the repository root, and returns once ``GET /localcloud/calls`` answers, or raises
:class:`DidNotStart` with the end of its log. Standard library only, so a caller need
not import moto.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from localcloud import DEFAULT_HOST

ROOT = Path(__file__).resolve().parent.parent
#: Answers once the server (moto, every patch, our routes) is loaded.
READY_PATH = "/localcloud/calls"


class DidNotStart(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log."""


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind((DEFAULT_HOST, 0))
        return int(s.getsockname()[1])


def url_of(port: int) -> str:
    return f"http://{DEFAULT_HOST}:{port}"


def answers(url: str, path: str = READY_PATH, timeout: float = 1.0) -> bool:
    """True when ``url + path`` answers with a success status."""
    try:
        urllib.request.urlopen(url + path, timeout=timeout).close()
        return True
    except OSError:
        return False


def wait_until_answers(url: str, process: subprocess.Popen, *, path: str = READY_PATH,
                       timeout: float = 60, log: Path | None = None) -> None:
    """Poll ``url + path`` until it answers; kill ``process`` and raise if it exits first
    or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not answers(url, path, timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            why = (f"exited with status {process.returncode}" if process.poll() is not None
                   else f"did not answer {path} within {timeout:g} s")
            process.kill()
            process.wait()
            raise DidNotStart(f"{' '.join(map(str, process.args))} {why}{_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path | None) -> str:
    if log is None:
        return ""
    try:
        return f"; end of {log}:\n{log.read_text(errors='replace')[-3000:]}"
    except OSError:
        return f"; no log at {log}"


@dataclass
class LocalCloud:
    """A running local cloud server process."""

    port: int
    process: subprocess.Popen
    log: Path | None

    @property
    def url(self) -> str:
        return url_of(self.port)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        stop_process(self.process, timeout)


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start(port: int | None = None, *, settings: Mapping[str, str] | None = None,
          log: Path | None = None, append: bool = False, detach: bool = False,
          timeout: float = 60) -> LocalCloud:
    """Run a local cloud on ``port`` (default: a free one) and wait until it answers.

    ``settings``: extra environment (``LOCALCLOUD_*``, ``MOTO_*``) on top of this
    process's. ``log``: file for its output (``append`` to keep what is there), else
    discarded. ``detach``: own session, so it outlives the caller's terminal.
    """
    port = free_port() if port is None else port
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(settings or {})}
    command = [sys.executable, "-m", "localcloud", "serve", "--port", str(port)]
    out: IO[bytes] | int
    out = open(log, "ab" if append else "wb") if log is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=detach)
    finally:
        if not isinstance(out, int):
            out.close()
    wait_until_answers(url_of(port), process, timeout=timeout, log=log)
    return LocalCloud(port, process, log)


@contextmanager
def running(port: int | None = None, *, settings: Mapping[str, str] | None = None,
            log: Path | None = None, timeout: float = 60) -> Iterator[LocalCloud]:
    """:func:`start` for the duration of a ``with`` block, then stop it."""
    cloud = start(port, settings=settings, log=log, timeout=timeout)
    try:
        yield cloud
    finally:
        cloud.stop()
