"""Fault drills (issue 17): the API under gunicorn with its own MariaDB and local cloud,
mixed traffic at a fixed rate, and faults injected into its dependencies.

Shared by tests/app/test_fault_drills.py (short faults) and bench/faults.py (the figures).

- :class:`DrillStack` starts, on free loopback ports: a local cloud, a :class:`FaultProxy`
  in front of it (the API reaches DynamoDB/SQS only through the proxy), a private MariaDB,
  and the API under gunicorn (``autobuy.gunicorn_conf``, 2 workers x 4 threads).
  Faults: the database frozen (SIGSTOP/SIGCONT, what a partition or a stuck failover
  looks like), killed (SIGKILL) and restarted; DynamoDB/SQS slowed, throttled or failing
  with 5xx (the proxy; the local cloud itself has no such switch).
- :class:`Traffic` sends mixed requests on an open loop (scheduled every 1/rate s, each on
  its own connection and thread, latency measured from the scheduled time, 30 s client
  timeout so a hang shows as a hang), and remembers every write that was answered done.
- :func:`summarize` turns the samples into the issue's figures.
"""
from __future__ import annotations

import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
HEALTH_TIMEOUT = 5.0      # the ALB's health check timeout (inventories/aws: 5 s)
UNHEALTHY_SPAN = 2 * 30   # (unhealthy threshold 3 - 1) x interval 30 s: failing this long = replaced
DB_KINDS = ("me", "billing", "signin")         # need MySQL
DYNAMO_KINDS = ("me", "items", "create")       # need DynamoDB
MIX = ("health", "me", "health", "billing", "health", "items", "health", "signin", "health", "create")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.1)


class FaultProxy:
    """An HTTP proxy in front of the local cloud with a switchable fault.

    ``mode``: "pass"; "slow" (wait ``delay`` s before forwarding); "throttle" (answer like
    DynamoDB/SQS throttling, HTTP 400 ThrottlingException); "error" (HTTP 500).
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.mode = "pass"
        self.delay = 0.0
        self.faulted = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, kind: str) -> None:
                body = json.dumps({"__type": kind, "message": "injected by the drill"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = proxy.mode
                if mode != "pass":
                    proxy.faulted += 1
                if mode == "slow":
                    time.sleep(proxy.delay)
                elif mode == "throttle":
                    return self._answer(400, "ThrottlingException")
                elif mode == "error":
                    return self._answer(500, "InternalServerError")
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status)
                    for key, value in resp.getheaders():
                        if key.lower() not in ("connection", "transfer-encoding", "content-length",
                                               "server", "date"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

            def _safe_forward(self) -> None:
                try:
                    self._forward()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its read timeout): nothing left to answer

            do_GET = do_POST = do_PUT = do_DELETE = _safe_forward  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, mode: str, delay: float = 0.0) -> None:
        if mode not in ("pass", "slow", "throttle", "error"):
            raise ValueError(f"unknown proxy mode {mode!r}")
        self.mode, self.delay = mode, delay

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class DrillStack:
    """Local cloud + fault proxy + private MariaDB + the API under gunicorn, on loopback."""

    def __init__(self, workdir: Path, *, workers: int = 2, threads: int = 4,
                 env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workers = workers
        self.threads = threads
        self.extra_env = env or {}
        self._procs: list[subprocess.Popen] = []
        self.proxy: FaultProxy | None = None
        self.db = None
        self.db_name = "drill"

    # ---- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> DrillStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _spawn(self, args: list[str], log: str, env: dict[str, str]) -> subprocess.Popen:
        out = open(self.workdir / log, "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        self._procs.append(proc)
        return proc

    def start(self) -> None:
        import boto3

        from autobuy.dev.mariadb import MariaDB
        from autobuy.dev.tables import ensure_tables

        self.workdir.mkdir(parents=True, exist_ok=True)
        base_env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'app'}",
                    "AWS_ACCESS_KEY_ID": "localcloud", "AWS_SECRET_ACCESS_KEY": "localcloud"}
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            base_env.pop(key, None)
        cloud_port = free_port()
        self.cloud_url = f"http://127.0.0.1:{cloud_port}"
        self._spawn([sys.executable, "-m", "localcloud", "serve", "--port", str(cloud_port)],
                    "localcloud.log", base_env)
        _wait(lambda: urllib.request.urlopen(self.cloud_url + "/localcloud/calls", timeout=1),
              60, "the local cloud")
        self.proxy = FaultProxy(self.cloud_url)
        self.db = MariaDB(Path(f"/tmp/autobuy-drill-db-{os.getpid()}-{secrets.token_hex(3)}"),
                          free_port())
        self.db.start()
        self.password = "pw-" + secrets.token_hex(12)
        self.db.ensure_database(self.db_name, "autobuy", self.password)
        client = boto3.client("dynamodb", endpoint_url=self.cloud_url, region_name="eu-central-1",
                              aws_access_key_id="localcloud", aws_secret_access_key="localcloud")
        ensure_tables(client, "")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **base_env, "AUTOBUY_ENV": "development", "AUTOBUY_DB_HOST": "127.0.0.1",
            "AUTOBUY_DB_PORT": str(self.db.port), "AUTOBUY_DB_USER": "autobuy",
            "AUTOBUY_DB_PASSWORD": self.password, "AUTOBUY_DB_NAME": self.db_name,
            "AUTOBUY_JWT_SIGNING_KEY": secrets.token_urlsafe(48),
            "AUTOBUY_GOOGLE_CLIENT_ID": "drill.apps.googleusercontent.com",
            "AUTOBUY_STRIPE_SECRET_KEY": "sk_test_drill_" + secrets.token_hex(8),
            "AUTOBUY_STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
            "AUTOBUY_AWS_REGION": "eu-central-1", "AUTOBUY_AWS_ENDPOINT_URL": self.proxy.url,
            "AUTOBUY_DEV_SIGNIN": "true",
            # The drill's writers all come from 127.0.0.1: lift the per-IP sign-in limit.
            "AUTOBUY_SIGNIN_PER_MINUTE_IP": "1000000", "AUTOBUY_SIGNIN_PER_MINUTE_USER": "1000000",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads), "GUNICORN_ACCESSLOG": "/dev/null",
            **self.extra_env,
        }
        subprocess.run([sys.executable, "-m", "autobuy.migrate", "upgrade", "head"], cwd=ROOT,
                       env=self.env, check=True, capture_output=True, timeout=120)
        self.api = self._spawn([str(Path(sys.executable).with_name("gunicorn")), "-c",
                                "python:autobuy.gunicorn_conf", "autobuy.wsgi:application"],
                               "gunicorn.log", self.env)
        try:
            _wait(lambda: self.api.poll() is not None
                  or urllib.request.urlopen(self.url + "/ready", timeout=2).status == 200,
                  60, "the API")
            if self.api.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.api.returncode}")
        except RuntimeError as exc:
            log = (self.workdir / "gunicorn.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{exc}; gunicorn.log ends:\n{log}") from None

    def stop(self) -> None:
        if self.db is not None:
            self.thaw_db()
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs.clear()
        if self.proxy is not None:
            self.proxy.close()
            self.proxy = None
        if self.db is not None:
            self.db.stop()
            shutil.rmtree(self.db.base, ignore_errors=True)
            self.db = None

    # ---- faults ------------------------------------------------------------------------
    def db_pid(self) -> int:
        return int(self.db.pidfile.read_text().strip())

    def freeze_db(self) -> None:
        os.kill(self.db_pid(), signal.SIGSTOP)

    def thaw_db(self) -> None:
        try:
            os.kill(self.db_pid(), signal.SIGCONT)
        except (OSError, ValueError):
            pass

    def kill_db(self) -> None:
        pid = self.db_pid()
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)  # our child (MariaDB.start spawned it): reap it
        except ChildProcessError:
            while Path(f"/proc/{pid}").exists():
                time.sleep(0.05)

    def restart_db(self) -> None:
        self.db.start()

    # ---- helpers -------------------------------------------------------------------------
    def request(self, method: str, path: str, body: dict | None = None,
                token: str | None = None, timeout: float = 30) -> tuple[int, dict, float]:
        return request(self.url, method, path, body, token, timeout)

    def sign_in(self, email: str, recover_within: float = 10.0) -> str:
        """Sign in (retrying 503s as a client would while an earlier fault recovers)."""
        deadline = time.monotonic() + recover_within
        while True:
            status, got, _ = self.request("POST", "/v1/auth/dev", {"email": email})
            if status != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if status != 200:
            raise RuntimeError(f"sign-in failed: {status} {got}")
        return got["access_token"]

    def emails_in_db(self) -> set[str]:
        return set(self.db.sql(f"SELECT email FROM `{self.db_name}`.users").split())


def request(base: str, method: str, path: str, body: dict | None = None, token: str | None = None,
            timeout: float = 30) -> tuple[int, dict, float]:
    """One request on its own connection: (status, JSON body or {}, seconds); status 0 = no answer."""
    host, port = base.removeprefix("http://").split(":")
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        retry_after = resp.getheader("Retry-After")
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        if retry_after is not None and isinstance(parsed, dict):
            parsed["_retry_after"] = retry_after
        return resp.status, parsed, time.monotonic() - started
    except OSError:
        return 0, {}, time.monotonic() - started
    finally:
        conn.close()


@dataclass
class Sample:
    kind: str
    at: float          # scheduled time (monotonic)
    status: int
    seconds: float     # from the scheduled time to the answer
    detail: str = ""
    retry_after: str | None = None


@dataclass
class Traffic:
    """Mixed requests (:data:`MIX`) at ``rate`` per second, open loop, until :meth:`stop`."""

    stack: DrillStack
    tokens: list[str]
    rate: float = 20.0
    samples: list[Sample] = field(default_factory=list)
    signed_in: list[str] = field(default_factory=list)     # e-mails answered 200
    created: list[tuple[str, str]] = field(default_factory=list)  # (token, item id) answered 201
    signin_tokens: list[tuple[str, str]] = field(default_factory=list)  # (e-mail, its token)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=400, thread_name_prefix="drill")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._n = 0

    def start(self) -> Traffic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._pool.shutdown(wait=True)

    def _run(self) -> None:
        start = time.monotonic()
        n = 0
        while not self._stop.is_set():
            at = start + n / self.rate
            pause = at - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)
                if self._stop.is_set():
                    break
            self._pool.submit(self._one, MIX[n % len(MIX)], at, n)
            n += 1

    def _one(self, kind: str, at: float, n: int) -> None:
        token = self.tokens[n % len(self.tokens)]
        send = self.stack.request  # the API directly, or the twin's balancer (twin_drill.py)
        if kind == "health":
            status, body, _ = send("GET", "/health")
        elif kind == "me":
            status, body, _ = send("GET", "/v1/me", token=token)
        elif kind == "billing":
            status, body, _ = send("GET", "/v1/billing", token=token)
        elif kind == "items":
            status, body, _ = send("GET", "/v1/items", token=token)
        elif kind == "signin":
            email = f"drill-{n}-{secrets.token_hex(3)}@example.com"
            status, body, _ = send("POST", "/v1/auth/dev", {"email": email})
            if status == 200:
                with self._lock:
                    self.signed_in.append(email)
                    self.signin_tokens.append((email, body["access_token"]))
        else:
            status, body, _ = send("POST", "/v1/items", {
                "url": f"https://www.example-shop.de/p/{n}", "target_price": "10.00",
                "currency": "EUR", "title": f"drill {n}"}, token=token)
            if status == 201:
                with self._lock:
                    self.created.append((token, body["id"]))
        done = time.monotonic()
        error = body.get("error", {}) if isinstance(body, dict) else {}
        with self._lock:
            self.samples.append(Sample(kind, at, status, done - at,
                                       str(error.get("detail", ""))[:120] if error else "",
                                       body.get("_retry_after") if isinstance(body, dict) else None))


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _codes(samples: list[Sample]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in samples:
        out[str(s.status)] = out.get(str(s.status), 0) + 1
    return dict(sorted(out.items()))


def _stats(samples: list[Sample]) -> dict[str, Any]:
    lat = [s.seconds for s in samples]
    return {"count": len(samples), "codes": _codes(samples),
            "p50_ms": round(_pct(lat, 50) * 1000, 1), "p99_ms": round(_pct(lat, 99) * 1000, 1),
            "max_ms": round(max(lat, default=0) * 1000, 1)}


def summarize(samples: list[Sample], *, fault_start: float, fault_end: float,
              kinds: tuple[str, ...]) -> dict[str, Any]:
    """The issue's figures for one drill: /health throughout, the dependency's calls during
    the fault, time to recovery after ``fault_end``, and what the ALB would have done."""
    health = [s for s in samples if s.kind == "health"]
    failed_health = [s for s in health if s.status != 200 or s.seconds > HEALTH_TIMEOUT]
    longest = 0.0
    run_start = None
    for s in sorted(health, key=lambda s: s.at):
        if s in failed_health:
            run_start = s.at if run_start is None else run_start
            longest = max(longest, s.at - run_start)
        else:
            run_start = None
    during = [s for s in samples if s.kind in kinds and fault_start <= s.at < fault_end]
    after = [s for s in samples if s.kind in kinds and s.at >= fault_end]
    last_bad = max((s.at for s in after if s.status not in (200, 201, 403)), default=None)
    return {
        "health": _stats(health),
        "health_failures": len(failed_health),
        "instances_replaced": 1 if failed_health and longest >= UNHEALTHY_SPAN else 0,
        "during_fault": {kind: _stats([s for s in during if s.kind == kind]) for kind in kinds},
        "during_fault_all": _stats(during),
        "server_errors": sum(1 for s in samples if s.status >= 500 and s.status != 503),
        "no_answer": sum(1 for s in samples if s.status == 0),
        "recovery_seconds": round(last_bad - fault_end, 2) if last_bad is not None else 0.0,
        "after_fault_ok": sum(1 for s in after if s.status in (200, 201, 403)),
        "after_fault": len(after),
        "sample_503": next((s.detail for s in during if s.status == 503), ""),
        "retry_after": next((s.retry_after for s in during if s.status == 503), None),
    }


def lost_writes(stack: DrillStack, traffic: Traffic) -> dict[str, int]:
    """Writes answered done that are not there afterwards (want 0), checked after recovery."""
    emails = stack.emails_in_db()
    lost_users = [e for e in traffic.signed_in if e not in emails]
    lost_items = 0
    for token, item_id in traffic.created:
        status, _, _ = stack.request("GET", f"/v1/items/{item_id}", token=token)
        if status != 200:
            lost_items += 1
    return {"users_answered_done": len(traffic.signed_in), "users_lost": len(lost_users),
            "items_answered_done": len(traffic.created), "items_lost": lost_items}


def run_drill(stack: DrillStack, *, name: str, inject, restore, fault_seconds: float,
              kinds: tuple[str, ...], rate: float = 20.0, before: float = 3.0,
              after: float = 8.0, users: int = 40) -> dict[str, Any]:
    """Traffic for ``before`` s, ``inject()``, wait ``fault_seconds``, ``restore()``, traffic
    for ``after`` s more; returns the figures (plus lost writes)."""
    tokens = [stack.sign_in(f"{name}-user-{i}-{secrets.token_hex(2)}@example.com")
              for i in range(users)]
    traffic = Traffic(stack, tokens, rate).start()
    time.sleep(before)
    fault_start = time.monotonic()
    inject()
    time.sleep(fault_seconds)
    restore()
    fault_end = time.monotonic()
    time.sleep(after)
    traffic.stop()
    figures = summarize(traffic.samples, fault_start=fault_start, fault_end=fault_end, kinds=kinds)
    figures["drill"] = name
    figures["fault_seconds"] = round(fault_end - fault_start, 1)
    figures["rate"] = rate
    figures["writes"] = lost_writes(stack, traffic)
    return figures
