"""Count AWS API calls by botocore service name and operation name.

Each request is reduced to a small *signature* (signing name from the SigV4
credential scope, protocol hints such as ``Action``/``Version``,
``X-Amz-Target``, or HTTP method + path) and counted at once under a lock.
Signatures are resolved to ``(service, operation)`` only when the counts are
read, against an index of botocore's service models, so the request path never
waits for the index (built in a background thread, cached on disk per botocore
version).
"""
from __future__ import annotations

import json
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import botocore
import botocore.session

UNKNOWN = "unknown"
_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_RPC_V2 = re.compile(r"^/service/([^/]+)/operation/([^/?]+)")


@dataclass(frozen=True)
class Signature:
    """What identifies an API call in one HTTP request."""

    signing_name: str | None
    action: str | None = None
    version: str | None = None
    target: str | None = None
    method: str = "GET"
    path: str = "/"
    query_keys: frozenset[str] = frozenset()
    amz_headers: frozenset[str] = frozenset()


# method, path pattern, required query keys, required x-amz headers, weight, operation
_Route = tuple[str, "re.Pattern[str]", frozenset[str], frozenset[str], int, str]
_SIGNING_HEADERS = frozenset(
    {"x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "x-amz-user-agent",
     "x-amz-target", "x-amz-sdk-checksum-algorithm", "x-amz-checksum-crc32",
     "x-amz-decoded-content-length"}
)


@dataclass(frozen=True)
class _Service:
    name: str
    signing_name: str
    protocols: tuple[str, ...]
    target_prefix: str | None
    api_version: str | None


class ServiceIndex:
    """Metadata of every botocore service, and per-service HTTP routes on demand."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._ready = threading.Event()
        self._services: list[_Service] = []
        self._routes: dict[str, list[_Route]] = {}
        self._lock = threading.Lock()
        self._loader = botocore.session.get_session().get_component("data_loader")

    def build_in_background(self) -> None:
        threading.Thread(target=self._build, name="localcloud-calls-index", daemon=True).start()

    def _cache_file(self) -> Path | None:
        if self._cache_dir is None:
            return None
        return self._cache_dir / f"botocore-services-{botocore.__version__}.json"

    def _build(self) -> None:
        try:
            self._services = self._load_cached() or self._scan()
        finally:
            self._ready.set()

    def _load_cached(self) -> list[_Service] | None:
        path = self._cache_file()
        if path is None or not path.exists():
            return None
        try:
            rows = json.loads(path.read_text())
            return [_Service(r[0], r[1], tuple(r[2]), r[3], r[4]) for r in rows]
        except (ValueError, IndexError, TypeError):
            return None

    def _scan(self) -> list[_Service]:
        services = []
        for name in self._loader.list_available_services("service-2"):
            meta = self._loader.load_service_model(name, "service-2")["metadata"]
            protocols = tuple(meta.get("protocols") or [meta["protocol"]])
            services.append(_Service(
                name,
                meta.get("signingName") or meta.get("endpointPrefix") or name,
                protocols,
                meta.get("targetPrefix"),
                meta.get("apiVersion"),
            ))
        path = self._cache_file()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps([
                    [s.name, s.signing_name, list(s.protocols), s.target_prefix, s.api_version]
                    for s in services
                ]))
                tmp.replace(path)
            except OSError:
                pass
        return services

    def resolve(self, sig: Signature) -> tuple[str, str]:
        """Botocore ``(service, operation)`` of a request signature."""
        self._ready.wait(timeout=60)
        if sig.target:
            prefix, _, operation = sig.target.rpartition(".")
            for service in self._services:
                if service.target_prefix == prefix:
                    return service.name, operation
            return UNKNOWN, operation or UNKNOWN
        rpc = _RPC_V2.match(sig.path)
        if rpc:
            for service in self._services:
                if service.target_prefix == rpc.group(1):
                    return service.name, rpc.group(2)
            return UNKNOWN, rpc.group(2)
        candidates = sorted(
            (s for s in self._services if s.signing_name == sig.signing_name),
            key=lambda s: s.name != sig.signing_name,
        )
        if sig.action:
            return self._resolve_query(candidates, sig)
        return self._resolve_rest(candidates, sig)

    @staticmethod
    def _resolve_query(candidates: list[_Service], sig: Signature) -> tuple[str, str]:
        query = [s for s in candidates if {"query", "ec2"} & set(s.protocols)]
        exact = [s for s in query if s.api_version == sig.version]
        chosen = exact or query
        return (chosen[0].name if chosen else UNKNOWN), sig.action or UNKNOWN

    def _resolve_rest(self, candidates: list[_Service], sig: Signature) -> tuple[str, str]:
        best: tuple[int, str, str] | None = None
        for service in candidates:
            for route in self._routes_of(service.name):
                method, pattern, needed, headers, weight, operation = route
                if method != sig.method or not needed <= sig.query_keys:
                    continue
                if not headers <= sig.amz_headers:
                    continue
                if pattern.fullmatch(sig.path) and (best is None or weight > best[0]):
                    best = (weight, service.name, operation)
        if best is None:
            return (candidates[0].name if len(candidates) == 1 else UNKNOWN), UNKNOWN
        return best[1], best[2]

    def _routes_of(self, name: str) -> list[_Route]:
        with self._lock:
            if name not in self._routes:
                model = self._loader.load_service_model(name, "service-2")
                shapes = model["shapes"]
                self._routes[name] = [
                    _route(op["http"], op_name, _required_headers(shapes, op))
                    for op_name, op in model["operations"].items()
                    if "http" in op
                ]
            return self._routes[name]


def _required_headers(shapes: dict[str, Any], op: dict[str, Any]) -> frozenset[str]:
    """Lower-case ``x-amz-*`` headers an operation's input requires (e.g. CopyObject)."""
    shape = shapes.get(op.get("input", {}).get("shape", ""), {})
    members = shape.get("members", {})
    headers = set()
    for name in shape.get("required", []):
        member = members.get(name, {})
        header = member.get("locationName", "").lower()
        if member.get("location") == "header" and header.startswith("x-amz-"):
            headers.add(header)
    return frozenset(headers)


def _route(http: dict[str, Any], operation: str, headers: frozenset[str]) -> _Route:
    uri = http.get("requestUri", "/")
    path, _, query = uri.partition("?")
    regex = ""
    weight = 0
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{"):
            regex += ".+" if part.endswith("+}") else "[^/]+"
        else:
            regex += re.escape(part)
            weight += len(part) * 10
    if path != "/" and path.endswith("/"):
        regex += "?"
    needed = frozenset(k.split("=")[0] for k in query.split("&") if k)
    weight += 5 * len(needed)
    weight += 5 * len(headers)
    return http.get("method", "POST"), re.compile(regex), needed, headers, weight, operation


class CallCounter:
    """Thread-safe count of API calls, resolved on read."""

    def __init__(self, index: ServiceIndex) -> None:
        self._index = index
        self._lock = threading.Lock()
        self._raw: Counter[Signature] = Counter()
        self._resolved: dict[Signature, tuple[str, str]] = {}

    def record(self, sig: Signature) -> None:
        with self._lock:
            self._raw[sig] += 1

    def release(self, sig: Signature) -> None:
        """Take one ``sig`` back (the in-flight count: recorded on arrival, released on answer)."""
        with self._lock:
            self._raw[sig] -= 1
            if self._raw[sig] <= 0:
                del self._raw[sig]

    def reset(self) -> None:
        with self._lock:
            self._raw.clear()

    def snapshot(self) -> dict[str, Any]:
        """``{"total": n, "by_service": {service: {operation: n}}}``."""
        with self._lock:
            raw = dict(self._raw)
        by_service: dict[str, dict[str, int]] = {}
        for sig, count in raw.items():
            if sig not in self._resolved:
                self._resolved[sig] = self._index.resolve(sig)
            service, operation = self._resolved[sig]
            ops = by_service.setdefault(service, {})
            ops[operation] = ops.get(operation, 0) + count
        return {"total": sum(raw.values()), "by_service": by_service}


def signature_of(environ: dict[str, Any], body: bytes | None) -> Signature:
    """The signature of a WSGI request; ``body`` only for form-encoded requests."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(auth)
    signing_name = match.group(1) if match else None
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    params = dict(query)
    if body:
        params.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    if signing_name is None and "X-Amz-Credential" in query:
        parts = query["X-Amz-Credential"][0].split("/")
        signing_name = parts[3] if len(parts) > 3 else None
    action = params.get("Action", [None])[0]
    return Signature(
        signing_name=signing_name,
        action=action,
        version=params.get("Version", [None])[0] if action else None,
        target=environ.get("HTTP_X_AMZ_TARGET") or None,
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path="" if action else _path(environ),
        query_keys=frozenset() if action else frozenset(query),
        amz_headers=frozenset() if action else _amz_headers(environ),
    )


def _amz_headers(environ: dict[str, Any]) -> frozenset[str]:
    names = set()
    for key in environ:
        if key.startswith("HTTP_X_AMZ_"):
            name = key[5:].lower().replace("_", "-")
            if name not in _SIGNING_HEADERS:
                names.add(name)
    return frozenset(names)


def _path(environ: dict[str, Any]) -> str:
    path = environ.get("PATH_INFO", "/") or "/"
    if isinstance(path, bytes):
        path = path.decode("utf-8", "replace")
    return path

