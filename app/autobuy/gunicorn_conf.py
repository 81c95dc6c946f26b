"""gunicorn settings: ``gunicorn -c python:autobuy.gunicorn_conf autobuy.wsgi:application``.

- workers from the CPU count (``2 x CPUs + 1``, override with GUNICORN_WORKERS);
  gthread workers so a slow DynamoDB/MySQL call does not block a whole process;
- graceful shutdown: on SIGTERM gunicorn stops accepting, finishes in-flight requests
  for up to ``graceful_timeout`` s; keep-alive (75 s) outlives the ALB's idle timeout
  (60 s) so the ALB never reuses a connection the app is closing (no 502 in a
  rolling deploy, while the target group's deregistration delay drains the instance);
- one JSON object per access-log line (no query strings: they may carry secrets).
"""
from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import sys
import time

import boto3  # noqa: E402,F401
from gunicorn.glogging import Logger

# Warm the import cache in the master: workers fork with the modules already loaded and
# only build their own clients (fork-safe: nothing connects before the fork). This is
# what makes a new container answer /health within a second or two.
import autobuy.app  # noqa: E402,F401
import autobuy.repositories.dynamo  # noqa: E402,F401
import autobuy.repositories.sql  # noqa: E402,F401

gc.freeze()  # the imported modules stay shared with the workers (no copy-on-write by the GC)

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))

# The bulkhead (AUTOBUY_DEPENDENCY_MAX_IN_FLIGHT calls per dependency, autobuy.dependencies)
# only keeps /health answering while a dependency hangs if it leaves a thread free.
_max_in_flight = os.environ.get("AUTOBUY_DEPENDENCY_MAX_IN_FLIGHT", "3").strip()
if not _max_in_flight.isdigit() or int(_max_in_flight) >= threads:
    raise SystemExit(f"autobuy: AUTOBUY_DEPENDENCY_MAX_IN_FLIGHT ({_max_in_flight!r}) must be a whole "
                     f"number below GUNICORN_THREADS ({threads}): a hanging dependency must leave "
                     "a thread free for /health")
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
max_requests = 10_000
max_requests_jitter = 1_000
limit_request_line = 4094
limit_request_fields = 100
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
preload_app = False  # each worker builds its own clients (no shared sockets across fork)
control_socket_disable = True  # no runtime control socket (and no clash between instances)


class JsonLogger(Logger):
    """gunicorn's logger with a JSON access log (and JSON error-log lines)."""

    def access(self, resp, req, environ, request_time) -> None:  # noqa: ANN001
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.syslog):
            return
        headers = dict(resp.headers) if resp.headers else {}
        request_id = next((v for k, v in headers.items() if k.lower() == "x-request-id"), None)
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "type": "access",
            "remote": environ.get("REMOTE_ADDR"), "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"), "status": resp.status_code if hasattr(resp, "status_code")
            else int(str(resp.status).split()[0]),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "request_id": request_id, "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info(json.dumps(entry))
        except Exception:  # noqa: BLE001 - logging must never break a response
            self.exception("access log failed")


logger_class = JsonLogger


def post_worker_init(worker) -> None:  # noqa: ANN001
    """Once the worker has built the app (its clients, their resolved service models),
    move everything alive out of the garbage collector's way: full collections during
    requests then walk only what requests create (a pause of 11-14 ms otherwise, at
    every full collection, which showed in the p99 latency)."""
    gc.collect()
    gc.freeze()


def worker_exit(server, worker) -> None:  # noqa: ANN001
    """Leave without interpreter teardown once the worker has finished its requests.

    Tearing down a forked interpreter touches every shared page (copy-on-write) and took
    5+ s per worker on a busy 2-core machine, close to `docker stop`'s 10 s. By now the
    worker has answered its in-flight requests; flush the logs and exit. A worker that
    failed to boot (e.g. invalid settings, exit code 3) exits normally, so the master
    sees the boot error and stops instead of respawning it.
    """
    if not getattr(worker, "booted", False):
        return
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
