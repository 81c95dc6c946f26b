# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side Secrets Manager reads, cached once per playbook run.

Lookups run in forked worker processes (one per task and host), so a dict in the
lookup module caches nothing between tasks. The ``secrets_cache`` callback plugin
runs in the main ``ansible-playbook`` process: at play start it creates a
:class:`SecretStore`, serves it with :class:`CacheServer` on a Unix socket inside a
private 0700 temporary directory, and exports the socket path in
:data:`SOCKET_ENV` before any worker forks. The lookup asks that server through
:func:`fetch_via_socket`; without it (ad-hoc use, callback not configured) the
lookup keeps a per-process :class:`SecretStore`.

The server fetches on behalf of its clients, one flight per secret: when three
hosts ask for the same secret at the same moment, one API call is made and the
other two wait for its answer. Secrets a single request asks for together are
fetched with one ``BatchGetSecretValue`` (up to 20 per call). Values live only in
memory and on the socket; nothing is written to disk or logged.

Loaded by path (it is not importable as ``ansible.*``); see :func:`load_sibling`.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import socketserver
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ansible_collections.autobuy.guard.plugins.module_utils import autobuy_aws as aws

SOCKET_ENV = "AUTOBUY_SECRETS_CACHE_SOCKET"
BATCH_LIMIT = 20
FLIGHT_TIMEOUT = 300.0
MAX_MESSAGE = 64 * 1024 * 1024


# Outcomes that are facts about the secret for this run (cached); anything else
# (throttling after every retry, network trouble) is returned but not cached.
CACHEABLE_ERRORS = frozenset(
    {"ResourceNotFoundException", "DecryptionFailure", "InvalidRequestException",
     "InvalidParameterException"}
) | aws.ACCESS_DENIED_ERROR_CODES


@dataclass(frozen=True)
class SecretRequest:
    """One secret to read: name or ARN, optional version stage / id."""

    secret_id: str
    version_stage: Optional[str] = None
    version_id: Optional[str] = None

    @property
    def batchable(self) -> bool:
        """BatchGetSecretValue only reads the AWSCURRENT version."""
        return not self.version_id and self.version_stage in (None, "AWSCURRENT")

    @property
    def arn_region(self) -> Optional[str]:
        """The region in a full ARN (the secret lives there, whatever the default is)."""
        parts = self.secret_id.split(":")
        if len(parts) >= 7 and parts[0] == "arn" and parts[2] == "secretsmanager":
            return parts[3] or None
        return None


@dataclass(frozen=True)
class SecretResult:
    """A secret's value, or the AWS error that stopped us reading it."""

    string: Optional[str] = None
    binary: Optional[bytes] = None
    name: Optional[str] = None
    error_code: Optional[str] = None
    error_message: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def cacheable(self) -> bool:
        return self.ok or self.error_code in CACHEABLE_ERRORS

    def to_wire(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "string": self.string, "name": self.name,
            "error_code": self.error_code, "error_message": self.error_message,
        }
        if self.binary is not None:
            data["binary"] = base64.b64encode(self.binary).decode()
        return data

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> "SecretResult":
        binary = data.get("binary")
        return cls(
            string=data.get("string"), name=data.get("name"),
            binary=base64.b64decode(binary) if binary is not None else None,
            error_code=data.get("error_code"), error_message=data.get("error_message"),
        )

    @classmethod
    def from_exception(cls, exc: BaseException) -> "SecretResult":
        return cls(error_code=aws.error_code(exc) or type(exc).__name__,
                   error_message=aws.error_message(exc))


# --------------------------------------------------------------------------- fetching

def _matches(request: SecretRequest, entry: dict[str, Any]) -> bool:
    arn = entry.get("ARN", "")
    return request.secret_id in (entry.get("Name"), arn) or (
        request.secret_id.startswith("arn:") and arn.startswith(request.secret_id + "-")
    )


class Fetcher:
    """Reads secrets from AWS: one client per connection settings, retries, batching."""

    def __init__(self, retry: Optional[Callable[..., Any]] = None) -> None:
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()
        self._retry = retry or aws.aws_retry()

    def client(self, settings: Any) -> Any:
        key = settings.cache_key()
        with self._lock:
            if key not in self._clients:
                self._clients[key] = aws.client("secretsmanager", settings)
            return self._clients[key]

    def fetch(self, settings: Any, requests: list[SecretRequest]) -> dict[SecretRequest, SecretResult]:
        """Read every request (same settings); batch the batchable ones."""
        try:
            client = self.client(settings)
        except Exception as exc:  # noqa: BLE001 - settings/boto3 problems go to every request
            failure = SecretResult.from_exception(exc)
            return {r: failure for r in requests}
        results: dict[SecretRequest, SecretResult] = {}
        batchable = [r for r in requests if r.batchable]
        if len(batchable) >= 2:
            for start in range(0, len(batchable), BATCH_LIMIT):
                results.update(self._batch(client, batchable[start:start + BATCH_LIMIT]))
        for request in requests:
            if request not in results:
                results[request] = self._single(client, request)
        return results

    def _single(self, client: Any, request: SecretRequest) -> SecretResult:
        params: dict[str, Any] = {"SecretId": request.secret_id}
        if request.version_stage:
            params["VersionStage"] = request.version_stage
        if request.version_id:
            params["VersionId"] = request.version_id
        try:
            answer = self._retry(client.get_secret_value)(**params)
        except Exception as exc:  # noqa: BLE001 - every AWS error becomes a result
            return SecretResult.from_exception(exc)
        return SecretResult(string=answer.get("SecretString"), binary=answer.get("SecretBinary"),
                            name=answer.get("Name"))

    def _batch(self, client: Any, requests: list[SecretRequest]) -> dict[SecretRequest, SecretResult]:
        ids = list(dict.fromkeys(r.secret_id for r in requests))
        try:
            answer = self._retry(client.batch_get_secret_value)(SecretIdList=ids)
        except Exception as exc:  # noqa: BLE001
            # Not allowed to batch (IAM grants GetSecretValue only) or not supported:
            # the individual reads below decide each secret's fate.
            if aws.is_access_denied(exc) or aws.error_code(exc) in (
                "UnknownOperationException", "InvalidAction", "NotImplemented"
            ):
                return {}
            failure = SecretResult.from_exception(exc)
            return {r: failure for r in requests}
        results: dict[SecretRequest, SecretResult] = {}
        for request in requests:
            value = next((v for v in answer.get("SecretValues", []) if _matches(request, v)), None)
            if value is not None:
                results[request] = SecretResult(
                    string=value.get("SecretString"), binary=value.get("SecretBinary"),
                    name=value.get("Name"))
                continue
            error = next((e for e in answer.get("Errors", []) if e.get("SecretId") == request.secret_id), None)
            if error is not None:
                results[request] = SecretResult(error_code=error.get("ErrorCode"),
                                                error_message=error.get("Message"))
        return results  # requests missing from the answer are read one by one


# --------------------------------------------------------------------------- the store

class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Optional[SecretResult] = None


class SecretStore:
    """In-memory cache with one flight per secret (concurrent askers share one call)."""

    def __init__(self, fetcher: Optional[Fetcher] = None) -> None:
        self.fetcher = fetcher or Fetcher()
        self._cache: dict[tuple[Any, ...], SecretResult] = {}
        self._flights: dict[tuple[Any, ...], _Flight] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(settings: Any, request: SecretRequest) -> tuple[Any, ...]:
        return settings.cache_key() + (request.secret_id, request.version_stage, request.version_id)

    def get_many(self, settings: Any, requests: list[SecretRequest]) -> list[SecretResult]:
        """Results in request order; fetches only what nobody fetched or is fetching."""
        groups: dict[Any, list[SecretRequest]] = {}
        for request in requests:
            groups.setdefault(aws.with_region(settings, request.arn_region), []).append(request)
        answers: dict[SecretRequest, SecretResult] = {}
        for group_settings, group in groups.items():
            answers.update(self._get_group(group_settings, group))
        return [answers[r] for r in requests]

    def _get_group(self, settings: Any, requests: list[SecretRequest]) -> dict[SecretRequest, SecretResult]:
        answers: dict[SecretRequest, SecretResult] = {}
        mine: dict[SecretRequest, _Flight] = {}
        theirs: dict[SecretRequest, _Flight] = {}
        with self._lock:
            for request in dict.fromkeys(requests):
                key = self._key(settings, request)
                if key in self._cache:
                    answers[request] = self._cache[key]
                elif key in self._flights:
                    theirs[request] = self._flights[key]
                else:
                    mine[request] = self._flights[key] = _Flight()
        if mine:
            try:
                fetched = self.fetcher.fetch(settings, list(mine))
            except Exception as exc:  # noqa: BLE001 - never leave waiters hanging
                fetched = {r: SecretResult.from_exception(exc) for r in mine}
            with self._lock:
                for request, flight in mine.items():
                    key = self._key(settings, request)
                    flight.result = fetched.get(request) or SecretResult(
                        error_code="NoAnswer", error_message="AWS returned nothing for this secret")
                    if flight.result.cacheable:
                        self._cache[key] = flight.result
                    del self._flights[key]
                    flight.done.set()
                    answers[request] = flight.result
        for request, flight in theirs.items():
            if not flight.done.wait(FLIGHT_TIMEOUT) or flight.result is None:
                answers[request] = SecretResult(error_code="CacheTimeout",
                                                error_message="waited too long for another read")
            else:
                answers[request] = flight.result
        return answers

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


# --------------------------------------------------------------------------- socket

def _recv_all(sock: socket.socket) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_MESSAGE:
            raise ValueError("message too large")
        chunks.append(chunk)


def _encode_request(settings: Any, requests: list[SecretRequest]) -> bytes:
    return json.dumps({
        "settings": settings.as_dict(),
        "secrets": [{"secret_id": r.secret_id, "version_stage": r.version_stage,
                     "version_id": r.version_id} for r in requests],
    }).encode()


class _Handler(socketserver.BaseRequestHandler):
    server: "CacheServer"

    def handle(self) -> None:
        try:
            message = json.loads(_recv_all(self.request))
            settings = aws.ConnectionSettings(**message["settings"])
            requests = [SecretRequest(**s) for s in message["secrets"]]
            results = self.server.store.get_many(settings, requests)
            reply = {"results": [r.to_wire() for r in results]}
        except Exception as exc:  # noqa: BLE001 - the client reports it
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        self.request.sendall(json.dumps(reply).encode())


class CacheServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves a SecretStore on a Unix socket in a private (0700) temporary directory."""

    daemon_threads = True
    # socketserver listens with a backlog of 5: with a timeout set, a client's connect()
    # on a Unix socket then fails at once with EAGAIN (it does not wait) whenever more
    # than 5 lookups (forks x threads) connect together on a busy controller.
    request_queue_size = 128

    def __init__(self, store: Optional[SecretStore] = None) -> None:
        self.store = store or SecretStore()
        self.directory = tempfile.mkdtemp(prefix="autobuy-secrets-")  # mode 0700
        os.chmod(self.directory, 0o700)
        self.path = os.path.join(self.directory, "cache.sock")
        super().__init__(self.path, _Handler)
        os.chmod(self.path, 0o600)
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "CacheServer":
        self._thread = threading.Thread(target=self.serve_forever, name="secrets-cache", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()
        self.store.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


class CacheUnavailable(Exception):
    """No cache server answered (the caller falls back to its own store)."""


def fetch_via_socket(path: str, settings: Any, requests: list[SecretRequest],
                     timeout: float = FLIGHT_TIMEOUT + 30) -> list[SecretResult]:
    """Ask the cache server at ``path``; CacheUnavailable when it cannot be reached."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(_encode_request(settings, requests))
            sock.shutdown(socket.SHUT_WR)
            reply = json.loads(_recv_all(sock))
    except (OSError, ValueError) as exc:
        raise CacheUnavailable(f"secrets cache at {path} unavailable: {exc}") from exc
    if "error" in reply:
        raise CacheUnavailable(f"secrets cache failed: {reply['error']}")
    return [SecretResult.from_wire(r) for r in reply["results"]]


_LOCAL_STORE: Optional[SecretStore] = None
_LOCAL_LOCK = threading.Lock()


def local_store() -> SecretStore:
    """The per-process fallback store."""
    global _LOCAL_STORE
    with _LOCAL_LOCK:
        if _LOCAL_STORE is None:
            _LOCAL_STORE = SecretStore()
        return _LOCAL_STORE


def get_secrets(settings: Any, requests: list[SecretRequest],
                warn: Optional[Callable[[str], None]] = None) -> list[SecretResult]:
    """Through the run's cache server when there is one, else the per-process store."""
    path = os.environ.get(SOCKET_ENV)
    if path:
        try:
            return fetch_via_socket(path, settings, requests)
        except CacheUnavailable as exc:
            if warn is not None:
                warn(f"{exc}; caching in this process only")
    return local_store().get_many(settings, requests)
