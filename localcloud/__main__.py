"""Command line of the local cloud.

    python -m localcloud serve  [--port N]    run in the foreground
    python -m localcloud start  [--port N]    run in the background (idempotent)
    python -m localcloud stop                 stop the background server
    python -m localcloud status               exit 0 when it answers
"""
from __future__ import annotations

import argparse
import gc
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from localcloud import DEFAULT_HOST, DEFAULT_PORT, launch

STATE_DIR = Path(os.environ.get("LOCALCLOUD_STATE_DIR", ".localcloud"))
_url = launch.url_of


def answers(port: int, timeout: float = 1.0) -> bool:
    """True when a local cloud answers on the port."""
    return launch.answers(_url(port), timeout=timeout)


def _settle_heap() -> None:
    """Move everything loaded so far out of the garbage collector's way.

    moto and botocore leave ~170 000 long-lived container objects (service models,
    backends, extensions) after start-up. Every full collection walked them all again:
    ~100 ms each, a stall for every request in flight, ~0.7 ms per DynamoDB Query on
    average (issue 5 §6). ``gc.freeze()`` leaves the collector with what requests create.
    """
    gc.collect()
    gc.freeze()


_SIGNING_NAME = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")


class _SettleAfterFirstCall:
    """WSGI wrapper: settle the heap again after the first call to each AWS service.

    That call loads the service's botocore model and creates its moto backend (e.g.
    ~24 000 dicts for DynamoDB), which then live as long as the server; left in the
    collector they made each full collection a ~20 ms stall under load.
    """

    def __init__(self, app: Any) -> None:
        self._app = app
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        found = _SIGNING_NAME.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = found.group(1) if found else ""
        result = self._app(environ, start_response)
        if service and service not in self._seen:
            with self._lock:
                if service not in self._seen:
                    self._seen.add(service)
                    _settle_heap()
        return result


def _local_cloud_app(port: int | None = None) -> Any:
    """The WSGI app: moto with every extension, and the ``/localcloud/*`` routes; ``port``
    is the one it will serve on (the twin's instances reach it there)."""
    from localcloud import settings

    settings.apply_moto_defaults()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from localcloud import extensions
    from localcloud.app import LocalCloudApp

    patches = extensions.apply()
    speed = sum(p.kind == "speed" for p in patches)
    print(f"localcloud: {len(patches) - speed} fidelity and {speed} speed patches applied"
          + ("" if settings.speed_patches() else " (LOCALCLOUD_SPEED_PATCHES=off)"), flush=True)
    app = LocalCloudApp(DomainDispatcherApplication(create_backend_app))
    from localcloud import twin

    if port is not None:
        from localcloud import lambda_runtime

        lambda_runtime.serve_on(port)  # rotation functions call AWS here
    twin.start(port)  # LOCALCLOUD_TWIN=on: the registry and the network, before serving
    _settle_heap()
    return _SettleAfterFirstCall(app)


def _check_docker() -> None:
    """Container instances need a Docker engine: say so at start, not at the first launch."""
    import subprocess

    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=30, check=False)
        problem = info.stderr.strip() if info.returncode != 0 else ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = str(exc)
    if problem:
        raise SystemExit(
            "localcloud: LOCALCLOUD_INSTANCES=containers needs the Docker engine, but "
            f"`docker info` failed: {problem} (scripts/system-deps.sh docker installs and "
            "starts it; LOCALCLOUD_INSTANCES=records runs without it)")


def serve(port: int) -> None:
    """Serve until SIGTERM / SIGINT, under gunicorn: one process, keep-alive, a thread pool.

    moto keeps all state in one process, so there is exactly one worker (gthread); the
    parent only supervises it and is the process ``stop`` signals. werkzeug's server,
    used before, closes every connection after one answer (a new TCP connection and a
    new thread per AWS call) and drains each socket for up to 10 ms after answering;
    keep-alive saves ~0.4 ms of server and ~0.15 ms of client CPU per call (issue 5 §6).
    Everything is loaded in the worker, so its threads (call index, docker queue) and
    exit hooks (container clean-up) live where the requests are served.
    """
    from localcloud import extensions, settings

    settings.validate()  # fail before forking, with the variable's name
    extensions.check()  # likewise for a moto version the patches were not written for
    if settings.instances() == "containers":
        _check_docker()
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": f"{DEFAULT_HOST}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": settings.server_threads(),
        "keepalive": 75,  # idle client connections stay open (boto3 pools them)
        "timeout": 0,  # no worker heartbeat kill: one slow call must not wipe all state
        "graceful_timeout": 20,  # time for the exit hooks to remove the twin's containers
        "header_map": "dangerous",  # keep underscored headers (S3 metadata), as moto's handler does
        "limit_request_line": 0,
        "limit_request_field_size": 0,
        "limit_request_fields": 32768,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "localcloud",
    }

    class LocalCloudServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            app = _local_cloud_app(port)
            print(f"localcloud: serving {_url(port)}", flush=True)
            return app

    LocalCloudServer().run()


def start(port: int) -> int:
    pidfile = STATE_DIR / f"localcloud-{port}.pid"
    logfile = STATE_DIR / f"localcloud-{port}.log"
    if answers(port):
        print(f"localcloud: already running on {_url(port)}")
        return 0
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        cloud = launch.start(port, log=logfile, append=True, detach=True)
    except launch.DidNotStart:
        print(f"localcloud: did not start; see {logfile}", file=sys.stderr)
        return 1
    pidfile.write_text(str(cloud.process.pid))
    print(f"localcloud: started on {_url(port)} (pid {cloud.process.pid}, log {logfile})")
    return 0


def _is_our_server(pid: int, port: int) -> bool:
    """True when ``pid`` is ``python -m localcloud serve --port PORT`` (not a reused pid)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    words = [a.decode(errors="replace") for a in argv]
    return "localcloud" in words and "serve" in words and str(port) in words


def stop(port: int) -> int:
    pidfile = STATE_DIR / f"localcloud-{port}.pid"
    if not pidfile.exists():
        print("localcloud: not running")
        return 0
    pid = int(pidfile.read_text())
    if not _is_our_server(pid, port):
        pidfile.unlink(missing_ok=True)
        print(f"localcloud: not running (stale pid file {pidfile} removed)")
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(300):  # the twin's containers are removed before it exits
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pidfile.unlink(missing_ok=True)
    print(f"localcloud: stopped (pid {pid})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud")
    parser.add_argument("command", choices=["serve", "start", "stop", "status"])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("LOCALCLOUD_PORT", DEFAULT_PORT))
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port)
        return 0
    if args.command == "start":
        return start(args.port)
    if args.command == "stop":
        return stop(args.port)
    ok = answers(args.port)
    print(f"localcloud: {'running' if ok else 'not running'} on {_url(args.port)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
