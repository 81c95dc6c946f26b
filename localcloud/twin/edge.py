"""The twin's CloudFront edge: an HTTPS server on ``127.0.0.1:LOCALCLOUD_WEB_HTTPS_PORT``
(default 9443) serving the local cloud's CloudFront distribution as CloudFront would.

Every request is answered from the CloudFront, S3 and Route 53 state of the local cloud as it
is at that moment (nothing is copied or cached), so a new upload, a published function or a
changed response headers policy is served by the next request, without a restart.

* **Distribution:** the enabled distribution one of whose aliases is the request's host
  name; for ``localhost`` / ``127.0.0.1`` (the ``web_url`` a person opens) the oldest enabled
  distribution that has aliases. No distribution, or a disabled one: ``503`` with a body that
  says so. Another host: ``403``, as CloudFront answers a name it does not serve.
* **TLS:** a certificate of the twin's CA (:mod:`localcloud.twin.ca`) for every alias of every
  distribution, ``localhost`` and ``127.0.0.1``; re-issued (the listening socket stays) when
  the aliases change.
* **Behaviours:** the first cache behaviour whose ``PathPattern`` (``*``, ``?``) matches the
  path, else the default one; a method the behaviour does not allow gets ``403``.
* **Viewer-request CloudFront Function** (``FunctionAssociations``, ``LIVE`` stage): run by
  Node.js (``edge_function.js``), see :class:`Functions` for the supported subset. What it
  returns is used: a request (``uri``, ``querystring``, ``headers``) goes on to the origin, a
  response (``statusCode``...) is the answer. Viewer-response functions and Lambda@Edge are
  refused (``502``, naming them).
* **S3 origin** (``S3OriginConfig``; the bucket is the first label of the origin's domain
  name): the object as stored — body, ``Content-Type``, ``Cache-Control``, ``ETag``,
  ``Last-Modified``; ``304`` when ``If-None-Match`` names its ETag; ``/`` is the
  ``DefaultRootObject``; a missing key is S3's ``403 AccessDenied`` (the origin access control
  may read objects, not list the bucket).
* **Custom origin** (``CustomOriginConfig``): the origin's domain name is looked up in the
  local cloud's Route 53 zones; an alias to the load balancer the twin serves is reached at
  the balancer's published host port for the listener on the origin's ``HTTPSPort``
  (``https-only``/``match-viewer``) or ``HTTPPort`` (``http-only``), with TLS verified against
  the twin's CA for the origin's name. Every method, the body, the query string, and the
  viewer's headers, cookies included, as the behaviour's origin request policy says
  (``AllViewer``, ``AllViewerExceptHostHeader``; without one: none of them, as CloudFront);
  every response header, each ``Set-Cookie``, comes back. Uncached.
* **Response headers policy** (``ResponseHeadersPolicyId``): its security headers (CSP,
  HSTS, ``X-Content-Type-Options``, ``X-Frame-Options``, ``Referrer-Policy``,
  ``X-XSS-Protection``), custom headers and removed headers on every answer of the
  behaviour, static or proxied, honouring ``Override``. A CORS configuration is refused
  (``502``).
* **Compression** (``Compress`` with a cache policy that enables gzip: AWS's
  ``CachingOptimized``): gzip when the viewer accepts it, for CloudFront's compressible
  content types of 1,000 to 10,000,000 bytes. Brotli is not offered (Python's standard
  library has no encoder); a viewer that accepts only ``br`` gets the object uncompressed.
* **Not served:** caching (every request reads the origin: as a cache whose every object was
  just invalidated), signed URLs/cookies, geo restriction, origin groups, custom error
  responses, field-level encryption, HTTP/2 and HTTP/3 (HTTP/1.1 only), range requests.

Threaded: a slow API call holds its own thread, never the static files.
"""
from __future__ import annotations

import datetime
import email.utils
import gzip
import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from localcloud import settings
from localcloud.tlsclient import ResolvedHTTPSConnection
from localcloud.twin.ca import CertificateAuthority

RUNNER = Path(__file__).with_name("edge_function.js")
LOOPBACK_NAMES = ("localhost", "127.0.0.1")
# AWS's managed cache policies (their documented ids): whether they let CloudFront compress.
CACHE_POLICIES = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": ("CachingOptimized", True),
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": ("CachingDisabled", False),
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": ("CachingOptimizedForUncompressedObjects", False),
}
# AWS's managed origin request policies: (name, forward the viewer's Host header).
ORIGIN_REQUEST_POLICIES = {
    "216adef6-5c7f-47e4-b989-5492eafa07d3": ("AllViewer", True),
    "b689b0a8-53d0-40ab-baf2-68738e2966ac": ("AllViewerExceptHostHeader", False),
}
# CloudFront's compressible types (docs: "Serving compressed files"), by prefix: AWS's
# published list, kept as data.
COMPRESSIBLE = tuple(line for line in Path(__file__).with_name("cloudfront_compressible_types.txt")
                     .read_text().splitlines() if line and not line.startswith("#"))
COMPRESS_MIN, COMPRESS_MAX = 1000, 10_000_000
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "trailers", "transfer-encoding", "upgrade", "proxy-connection"}


class EdgeError(Exception):
    """The distribution asks for something the edge cannot do: the viewer gets ``status``
    and the message (CloudFront's own pages say as little; the twin says why)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class EdgeStartError(RuntimeError):
    """The edge cannot listen on its port."""


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    policy_id: str | None = None
    compress: bool = False


# -- the local cloud's state ------------------------------------------------------------
def _distributions() -> list[Any]:
    from moto.cloudfront.models import cloudfront_backends

    found = []
    for _account, regions in list(cloudfront_backends.items()):
        for _region, backend in list(regions.items()):
            found.extend(list(backend.distributions.values()))
    return found


def _config(distribution: Any) -> dict[str, Any]:
    return distribution.distribution_config.__dict__  # moto keeps AWS's names there


def _truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def _items(container: Any) -> list[Any]:
    if not isinstance(container, dict):
        return []
    items = container.get("Items") or []
    if isinstance(items, dict):  # one item, as moto's XML parser gives it
        items = list(items.values())[0]
        items = items if isinstance(items, list) else [items]
    return list(items)


def aliases(distribution: Any) -> list[str]:
    return [str(a).lower() for a in _items(_config(distribution).get("Aliases"))]


def all_aliases() -> list[str]:
    return sorted({a for d in _distributions() for a in aliases(d)})


def choose(host: str) -> Any:
    """The distribution serving ``host`` (see the module docstring)."""
    distributions = _distributions()
    if host in LOOPBACK_NAMES:
        named = [d for d in distributions if aliases(d)]
        enabled = [d for d in named if _truthy(_config(d).get("Enabled"))]
        if not enabled:
            raise EdgeError(503, "The twin's CloudFront edge has no enabled distribution to serve "
                            f"({len(named)} with aliases, none enabled)" if named else
                            "The twin's CloudFront edge has no distribution to serve: provision "
                            "the frontend tier (make local)")
        return enabled[0]
    for distribution in distributions:
        if host in aliases(distribution):
            if not _truthy(_config(distribution).get("Enabled")):
                raise EdgeError(503, f"The distribution {distribution.id} for {host} is disabled")
            return distribution
    raise EdgeError(403, f"No distribution of the twin has the alias {host!r} "
                    f"(aliases: {', '.join(all_aliases()) or 'none'})")


def _wildcard(pattern: str) -> re.Pattern[str]:
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    return re.compile("^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                                    for c in pattern) + "$")


def behaviour(distribution: Any, path: str) -> Any:
    config = _config(distribution)
    for candidate in _items(config.get("CacheBehaviors")):
        if _wildcard(candidate.path_pattern).match(path):
            return candidate
    return config["DefaultCacheBehavior"]


def _origin(distribution: Any, origin_id: str) -> Any:
    for origin in _items(_config(distribution).get("Origins")):
        if origin.id == origin_id:
            return origin
    raise EdgeError(502, f"the behaviour's origin {origin_id} does not exist")


def _function_code(arn: str) -> tuple[str, str]:
    """(code, etag) of the LIVE stage of the function ``arn``."""
    from moto.cloudfront.models import cloudfront_backends

    name = arn.rpartition("/")[2]
    for _account, regions in list(cloudfront_backends.items()):
        for _region, backend in list(regions.items()):
            function = backend.functions.get(name)
            if function is None:
                continue
            live = getattr(function, "_localcloud_live", None)
            if live is None:
                raise EdgeError(502, f"the function {name} is not published (no LIVE stage)")
            code = live["code"]
            return (code.decode() if isinstance(code, bytes) else str(code)), live["etag"]
    raise EdgeError(502, f"the function {arn} does not exist")


def _headers_policy(policy_id: str) -> dict[str, Any]:
    from moto.cloudfront.models import cloudfront_backends

    from localcloud.ext.fidelity.cloudfront_policies import _MANAGED, _policies

    if policy_id == _MANAGED["Id"]:
        return _MANAGED["Config"]
    for _account, regions in list(cloudfront_backends.items()):
        for _region, backend in list(regions.items()):
            policy = _policies(backend).get(policy_id)
            if policy is not None:
                return policy["Config"]
    raise EdgeError(502, f"the response headers policy {policy_id} does not exist")


def _object(bucket: str, key: str) -> Any:
    from moto.s3.models import s3_backends

    for _account, partitions in list(s3_backends.items()):
        for _partition, backend in list(partitions.items()):
            found = backend.buckets.get(bucket)
            if found is None:
                continue
            obj = found.keys.get(key)
            return obj if obj is not None and hasattr(obj, "value") else None
    raise EdgeError(502, f"the origin's bucket {bucket} does not exist")


def _resolve(name: str) -> str:
    """The DNS name of the alias record ``name`` points at in the local cloud's Route 53."""
    from moto.route53.models import route53_backends

    want = name.lower().rstrip(".")
    for _account, partitions in list(route53_backends.items()):
        for _partition, backend in list(partitions.items()):
            for zone in list(backend.zones.values()):
                for record in list(zone.rrsets):
                    if (record.name.lower().rstrip(".") == want and record.type in ("A", "AAAA")
                            and record.alias_target):
                        target = str(record.alias_target.get("DNSName", "")).lower().rstrip(".")
                        return target.removeprefix("dualstack.")
    return ""


# -- CloudFront Functions ---------------------------------------------------------------
class Functions:
    """One Node.js process per published function version (``edge_function.js``).

    Supported: a ``handler(event)`` in plain JavaScript (what V8 runs: cloudfront-js-1.0 and
    2.0 syntax) for ``viewer-request``, reading and changing ``event.request``'s ``method``
    (read only), ``uri``, ``querystring``, ``headers``, ``cookies``, and ``event.viewer.ip``,
    ``event.context`` (``distributionId``, ``distributionDomainName``, ``eventType``,
    ``requestId``); returning the request, or a response (``statusCode``,
    ``statusDescription``, ``headers``, ``body`` as a string). Refused, with the reason in
    the ``502`` body: modules (``require``/``import``: key value stores, ``crypto``,
    ``querystring``), async handlers, ``viewer-response`` functions, a call running over
    500 ms. Needs ``node`` on the PATH (``make setup`` installs it).
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._lock = threading.Lock()
        self._running: dict[str, tuple[subprocess.Popen[str], threading.Lock]] = {}

    def _process(self, arn: str) -> tuple[subprocess.Popen[str], threading.Lock]:
        code, etag = _function_code(arn)
        key = f"{arn}#{etag}"
        with self._lock:
            if key in self._running and self._running[key][0].poll() is None:
                return self._running[key]
            node = shutil.which("node")
            if node is None:
                raise EdgeError(502, "the distribution runs a CloudFront Function and the twin's "
                                "edge needs Node.js for it: install nodejs (make setup)")
            for old in [k for k in self._running if k.startswith(arn + "#")]:
                self._running.pop(old)[0].kill()
            self.workdir.mkdir(parents=True, exist_ok=True)
            source = self.workdir / f"function-{uuid.uuid5(uuid.NAMESPACE_URL, key)}.js"
            source.write_text(code)
            proc = subprocess.Popen([node, str(RUNNER), str(source)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    bufsize=1)
            self._running[key] = (proc, threading.Lock())
            return self._running[key]

    def run(self, arn: str, event: dict[str, Any]) -> dict[str, Any]:
        proc, lock = self._process(arn)
        with lock:
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps(event) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except OSError as exc:
                raise EdgeError(502, f"the function {arn} runtime failed: {exc}") from exc
        if not line:
            raise EdgeError(502, f"the function {arn} runtime exited")
        answer = json.loads(line)
        if "error" in answer:
            raise EdgeError(502, f"the CloudFront Function {arn.rpartition('/')[2]}: "
                            f"{answer['error']}")
        result = answer["result"]
        if not isinstance(result, dict):
            raise EdgeError(502, f"the CloudFront Function {arn.rpartition('/')[2]} returned "
                            f"{type(result).__name__}, not a request or a response")
        return result

    def stop(self) -> None:
        with self._lock:
            for proc, _lock in self._running.values():
                proc.kill()
            self._running.clear()


def _event(distribution: Any, viewer_ip: str, method: str, uri: str, query: str,
           headers: list[tuple[str, str]], request_id: str) -> dict[str, Any]:
    lowered: dict[str, dict[str, Any]] = {}
    cookies: dict[str, dict[str, str]] = {}
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            for part in value.split(";"):
                cname, _, cvalue = part.strip().partition("=")
                if cname:
                    cookies[cname] = {"value": cvalue}
            continue
        if key in lowered:
            lowered[key].setdefault("multiValue", [{"value": lowered[key]["value"]}]).append(
                {"value": value})
        else:
            lowered[key] = {"value": value}
    querystring: dict[str, dict[str, Any]] = {}
    for qname, qvalue in parse_qsl(query, keep_blank_values=True):
        if qname in querystring:
            querystring[qname].setdefault(
                "multiValue", [{"value": querystring[qname]["value"]}]).append({"value": qvalue})
        else:
            querystring[qname] = {"value": qvalue}
    return {
        "version": "1.0",
        "context": {"distributionDomainName": distribution.domain_name,
                    "distributionId": distribution.id, "eventType": "viewer-request",
                    "requestId": request_id},
        "viewer": {"ip": viewer_ip},
        "request": {"method": method, "uri": uri, "querystring": querystring,
                    "headers": lowered, "cookies": cookies},
    }


def _values(entry: Any) -> list[str]:
    if not isinstance(entry, dict):
        return []
    if entry.get("multiValue"):
        return [str(v.get("value", "")) for v in entry["multiValue"]]
    return [str(entry.get("value", ""))]


def _from_function(request: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    """(uri, query, headers) of the request a function returned."""
    uri = str(request.get("uri") or "/")
    query_parts = []
    for qname, entry in (request.get("querystring") or {}).items():
        query_parts += [f"{quote(qname, safe='')}={quote(v, safe='')}" for v in _values(entry)]
    headers = [(name, value) for name, entry in (request.get("headers") or {}).items()
               for value in _values(entry)]
    cookies = "; ".join(f"{c}={v}" for c, entry in (request.get("cookies") or {}).items()
                        for v in _values(entry))
    if cookies:
        headers.append(("cookie", cookies))
    return uri, "&".join(query_parts), headers


def _function_response(response: dict[str, Any]) -> Answer:
    status = int(response.get("statusCode") or 200)
    headers = [(name, value) for name, entry in (response.get("headers") or {}).items()
               for value in _values(entry)]
    body = response.get("body") or ""
    if isinstance(body, dict):
        body = body.get("data", "")
    return Answer(status, headers, str(body).encode())


# -- the response headers policy ----------------------------------------------------------
def apply_policy(policy: dict[str, Any], headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if policy.get("CorsConfig"):
        raise EdgeError(502, "the response headers policy has a CorsConfig, which the twin's "
                        "edge does not serve")
    wanted: list[tuple[str, str, bool]] = []  # (name, value, override)
    security = policy.get("SecurityHeadersConfig") or {}
    if "ContentSecurityPolicy" in security:
        item = security["ContentSecurityPolicy"]
        wanted.append(("Content-Security-Policy", item["ContentSecurityPolicy"],
                       _truthy(item.get("Override"))))
    if "StrictTransportSecurity" in security:
        item = security["StrictTransportSecurity"]
        value = f"max-age={int(item['AccessControlMaxAgeSec'])}"
        if _truthy(item.get("IncludeSubdomains")):
            value += "; includeSubDomains"
        if _truthy(item.get("Preload")):
            value += "; preload"
        wanted.append(("Strict-Transport-Security", value, _truthy(item.get("Override"))))
    if "ContentTypeOptions" in security:
        wanted.append(("X-Content-Type-Options", "nosniff",
                       _truthy(security["ContentTypeOptions"].get("Override"))))
    if "FrameOptions" in security:
        item = security["FrameOptions"]
        wanted.append(("X-Frame-Options", item["FrameOption"], _truthy(item.get("Override"))))
    if "ReferrerPolicy" in security:
        item = security["ReferrerPolicy"]
        wanted.append(("Referrer-Policy", item["ReferrerPolicy"], _truthy(item.get("Override"))))
    if "XSSProtection" in security:
        item = security["XSSProtection"]
        value = "1" if _truthy(item.get("Protection")) else "0"
        if _truthy(item.get("ModeBlock")):
            value += "; mode=block"
        elif item.get("ReportUri"):
            value += f"; report={item['ReportUri']}"
        wanted.append(("X-XSS-Protection", value, _truthy(item.get("Override"))))
    for item in _items(policy.get("CustomHeadersConfig")):
        wanted.append((item["Header"], item["Value"], _truthy(item.get("Override"))))
    removed = {str(item["Header"]).lower() for item in _items(policy.get("RemoveHeadersConfig"))}
    out = [(n, v) for n, v in headers if n.lower() not in removed]
    for name, value, override in wanted:
        present = any(n.lower() == name.lower() for n, _v in out)
        if present and not override:
            continue
        out = [(n, v) for n, v in out if n.lower() != name.lower()] + [(name, value)]
    return out


def _compressible(content_type: str) -> bool:
    base = content_type.split(";")[0].strip().lower()
    return any(base == t or base.startswith(t + "+") for t in COMPRESSIBLE)


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            quality = re.search(r"q=([0-9.]+)", params)
            return not quality or float(quality.group(1)) > 0
    return False


# -- the server ---------------------------------------------------------------------------
class Edge:
    """The HTTPS server of one local cloud (see the module docstring)."""

    def __init__(self, ca: CertificateAuthority, workdir: Path, balancer: Any = None) -> None:
        self.ca = ca
        self.workdir = workdir
        self.balancer_of = balancer  # a callable returning the twin's Balancer (or None)
        self.port = 0
        self.names: tuple[str, ...] = ()
        self.functions = Functions(workdir / "functions")
        self._server: ThreadingHTTPServer | None = None
        self._context: ssl.SSLContext | None = None
        self._current: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self.origin_context = ssl.create_default_context(cafile=str(ca.cert_path))

    def start(self) -> None:
        port = settings.web_https_port()
        self._context = _server_context()
        self._context.sni_callback = self._sni
        self.refresh()
        edge = self

        class Handler(_Handler):
            server_edge = edge

        try:
            server = _Server(("127.0.0.1", port), Handler, self._context)
        except OSError as exc:
            raise EdgeStartError(f"the twin's web edge cannot listen on 127.0.0.1:{port} "
                          f"(LOCALCLOUD_WEB_HTTPS_PORT): {exc}") from exc
        self._server, self.port = server, int(server.server_address[1])
        threading.Thread(target=server.serve_forever, name="localcloud-edge",
                         daemon=True).start()

    def refresh(self) -> None:
        """Issue the certificate again when the distributions' aliases changed (checked at
        every TLS handshake and every twin cycle)."""
        names = tuple(all_aliases()) + ("localhost",)
        with self._lock:
            if names == self.names or self._context is None:
                return
            issued = self.ca.issue(names, ["127.0.0.1"])
            cert, key = issued.write(self.workdir / "tls", "edge")
            current = _server_context()
            current.load_cert_chain(str(cert), str(key))
            self._context.load_cert_chain(str(cert), str(key))  # for new connections
            self._current, self.names = current, names

    def _sni(self, sock: ssl.SSLObject, _name: str | None, _context: ssl.SSLContext) -> None:
        """A handshake in progress uses the certificate of the aliases as they are now."""
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - the handshake goes on with the last one
            print(f"localcloud: twin: web edge: certificate: {exc}", file=sys.stderr, flush=True)
        sock.context = self._current

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.functions.stop()

    def report(self) -> dict[str, Any]:
        served = []
        for distribution in _distributions():
            served.append({"id": distribution.id, "aliases": aliases(distribution),
                           "enabled": _truthy(_config(distribution).get("Enabled")),
                           "domain_name": distribution.domain_name})
        return {"https": f"127.0.0.1:{self.port}" if self.port else "",
                "names": list(self.names), "distributions": served}

    # -- answering ----------------------------------------------------------------------
    def answer(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
               viewer_ip: str) -> Answer:
        host = next((v for n, v in headers if n.lower() == "host"), "localhost").lower()
        host = host.partition("]")[0].lstrip("[") if host.startswith("[") else \
            host.partition(":")[0]
        distribution = choose(host)
        split = urlsplit(target)
        path, query = split.path or "/", split.query
        chosen = behaviour(distribution, path)
        allowed = [m.upper() for m in chosen.allowed_methods.items]
        if method not in allowed:
            raise EdgeError(403, f"This distribution is not configured to allow the HTTP request "
                            f"method {method} for {path} (allowed: {', '.join(allowed)})")
        policy_id = chosen.response_headers_policy_id or None
        request_id = uuid.uuid4().hex
        for association in _items(chosen.lambda_function_associations):
            raise EdgeError(502, f"Lambda@Edge ({association}) is not served by the twin's edge")
        for association in _items(chosen.function_associations):
            event_type = association.get("EventType")
            if event_type != "viewer-request":
                raise EdgeError(502, f"a {event_type} CloudFront Function is not served by the "
                                "twin's edge (viewer-request only)")
            event = _event(distribution, viewer_ip, method, path, query, headers, request_id)
            result = self.functions.run(association["FunctionARN"], event)
            if "statusCode" in result:
                answer = _function_response(result)
                answer.policy_id = policy_id
                return answer
            path, query, headers = _from_function(result)
        origin = _origin(distribution, chosen.target_origin_id)
        compress = _truthy(chosen.compress) and CACHE_POLICIES.get(
            chosen.cache_policy_id or "", ("", False))[1]
        if chosen.cache_policy_id and chosen.cache_policy_id not in CACHE_POLICIES:
            raise EdgeError(502, f"cache policy {chosen.cache_policy_id} is not known to the "
                            f"twin's edge (known: {', '.join(n for n, _ in CACHE_POLICIES.values())})")
        if getattr(origin, "s3_origin_config", None) is not None or origin.domain_name.endswith(
                ".amazonaws.com") and ".s3." in origin.domain_name:
            if path == "/" and _config(distribution).get("DefaultRootObject"):
                path = "/" + _config(distribution)["DefaultRootObject"].lstrip("/")
            answer = self._from_s3(origin, method, path, headers)
        else:
            answer = self._from_custom(origin, chosen, method, path, query, headers, body,
                                       viewer_ip)
        answer.policy_id, answer.compress = policy_id, compress
        answer.headers += [("Via", f"1.1 {request_id[:32]}.cloudfront.net (CloudFront)"),
                           ("X-Cache", "Miss from cloudfront"),
                           ("X-Amz-Cf-Id", request_id)]
        return answer

    def _from_s3(self, origin: Any, method: str, path: str,
                 headers: list[tuple[str, str]]) -> Answer:
        bucket = origin.domain_name.split(".s3.")[0].split(".s3-")[0]
        key = (origin.origin_path.strip("/") + "/" if origin.origin_path else "") + \
            path.lstrip("/")
        obj = _object(bucket, unquote(key))
        if obj is None:
            body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                    b'<Message>Access Denied</Message></Error>')
            return Answer(403, [("Content-Type", "application/xml")], body)
        metadata = {k.lower(): v for k, v in obj.metadata.items()}
        out = [("Content-Type", metadata.get("content-type", "binary/octet-stream")),
               ("ETag", obj.etag), ("Last-Modified", obj.last_modified_RFC1123),
               ("Accept-Ranges", "bytes")]
        for name in ("cache-control", "content-encoding", "content-disposition",
                     "content-language", "expires"):
            if name in metadata:
                out.append(("-".join(p.capitalize() for p in name.split("-")), metadata[name]))
        wanted = next((v for n, v in headers if n.lower() == "if-none-match"), None)
        if wanted is not None and obj.etag in [t.strip() for t in wanted.split(",")] + (
                [obj.etag] if wanted.strip() == "*" else []):
            keep = {"etag", "cache-control", "last-modified", "expires"}
            return Answer(304, [(n, v) for n, v in out if n.lower() in keep], b"")
        return Answer(200, out, obj.value)

    def _origin_address(self, origin: Any) -> tuple[str, int, bool]:
        config = origin.custom_origin_config
        policy = config.origin_protocol_policy or "https-only"
        use_tls = policy != "http-only"
        port = int(config.https_port if use_tls else config.http_port)
        balancer = self.balancer_of() if self.balancer_of else None
        served = balancer.report() if balancer is not None else {}
        target = _resolve(origin.domain_name)
        dns_name = str((served.get("served") or {}).get("dns_name", "")).lower()
        if not target or target != dns_name:
            raise EdgeError(502, f"the origin {origin.domain_name} is not an alias of the load "
                            f"balancer the twin serves ({dns_name or 'none yet'}); "
                            f"Route 53 says {target or 'nothing'}")
        protocol = "HTTPS" if use_tls else "HTTP"
        listener = next((li for li in served["served"].get("listeners", [])
                         if li["protocol"] == protocol and li["port"] == port), None)
        if listener is None or not listener.get("host_port"):
            raise EdgeError(502, f"the load balancer has no {protocol} listener on port {port} "
                            "published on the host")
        host_port = served.get("https" if use_tls else "http", "").rpartition(":")[2]
        return "127.0.0.1", int(host_port), use_tls

    def _from_custom(self, origin: Any, chosen: Any, method: str, path: str, query: str,
                     headers: list[tuple[str, str]], body: bytes, viewer_ip: str) -> Answer:
        address, port, use_tls = self._origin_address(origin)
        policy_name, forward_host = ORIGIN_REQUEST_POLICIES.get(
            chosen.origin_request_policy_id or "", ("", False))
        if chosen.origin_request_policy_id and not policy_name:
            raise EdgeError(502, f"origin request policy {chosen.origin_request_policy_id} is "
                            "not known to the twin's edge (known: AllViewer, "
                            "AllViewerExceptHostHeader)")
        out: list[tuple[str, str]] = []
        if policy_name:  # every viewer header, cookies included
            out = [(n, v) for n, v in headers
                   if n.lower() not in HOP_BY_HOP and n.lower() not in (
                       "host", "content-length", "x-forwarded-for")]
        host = next((v for n, v in headers if n.lower() == "host"), origin.domain_name) \
            if forward_host else origin.domain_name
        forwarded = next((v for n, v in headers if n.lower() == "x-forwarded-for"), "")
        out += [("Host", host),
                ("X-Forwarded-For", f"{forwarded}, {viewer_ip}" if forwarded else viewer_ip),
                ("Via", "1.1 twin.cloudfront.net (CloudFront)"),
                ("CloudFront-Forwarded-Proto", "https")]
        if body or method in ("POST", "PUT", "PATCH"):
            out.append(("Content-Length", str(len(body))))
        timeout = float(origin.custom_origin_config.origin_read_timeout or 30)
        if use_tls:
            connection: http.client.HTTPConnection = ResolvedHTTPSConnection(
                address, port, origin.domain_name, self.origin_context, timeout)
        else:
            connection = http.client.HTTPConnection(address, port, timeout=timeout)
        try:
            connection.putrequest(method, path + (f"?{query}" if query else ""),
                                  skip_host=True, skip_accept_encoding=True)
            for name, value in out:
                connection.putheader(name, value)
            connection.endheaders(body or None)
            response = connection.getresponse()
            data = response.read()
            back = [(n, v) for n, v in response.getheaders() if n.lower() not in HOP_BY_HOP
                    and (method == "HEAD" or n.lower() != "content-length")]
            return Answer(response.status, back, data)
        except (OSError, http.client.HTTPException) as exc:
            raise EdgeError(502, f"the origin {origin.domain_name} ({address}:{port}) did not "
                            f"answer: {exc}") from exc
        finally:
            connection.close()


def _server_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # the distribution's TLSv1.2_2021
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, context: ssl.SSLContext) -> None:
        self.tls = context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


class _Handler(BaseHTTPRequestHandler):
    server_edge: Edge
    protocol_version = "HTTP/1.1"
    server_version = "CloudFront"
    timeout = 60

    def setup(self) -> None:
        self.handshaken = False
        self.request.settimeout(self.timeout)
        try:
            self.request.do_handshake()  # in this thread: a slow client holds only its own
            self.handshaken = True
        except (OSError, ssl.SSLError):
            pass
        super().setup()

    def handle(self) -> None:
        if not self.handshaken:
            return
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError):
            pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = list(self.headers.items())
        edge = self.server_edge
        try:
            answer = edge.answer(self.command, self.path, headers, body, self.client_address[0])
        except EdgeError as exc:
            answer = Answer(exc.status, [("Content-Type", "text/plain; charset=utf-8")],
                            f"{exc}\n".encode())
        except Exception as exc:  # noqa: BLE001 - the viewer gets a 502, the log the reason
            print(f"localcloud: twin: web edge: {type(exc).__name__}: {exc}", file=sys.stderr,
                  flush=True)
            answer = Answer(502, [("Content-Type", "text/plain; charset=utf-8")],
                            f"the twin's edge failed: {type(exc).__name__}: {exc}\n".encode())
        out = answer.headers
        if answer.policy_id:
            try:
                out = apply_policy(_headers_policy(answer.policy_id), out)
            except EdgeError as exc:
                answer = Answer(exc.status, [("Content-Type", "text/plain; charset=utf-8")],
                                f"{exc}\n".encode())
                out = answer.headers
        data = answer.body
        content_type = next((v for n, v in out if n.lower() == "content-type"), "")
        if (answer.compress and answer.status == 200
                and COMPRESS_MIN <= len(data) <= COMPRESS_MAX and _compressible(content_type)
                and not any(n.lower() == "content-encoding" for n, _v in out)
                and _accepts_gzip(self.headers.get("Accept-Encoding", ""))):
            data = gzip.compress(data, compresslevel=6, mtime=0)
            out = out + [("Content-Encoding", "gzip")]
            out = [(n, v if n.lower() != "etag" else _weak(v)) for n, v in out]
        if answer.compress:
            out = out + [("Vary", "Accept-Encoding")]
        length_value: str | None = str(len(data))
        if self.command == "HEAD" and not data:  # a proxied HEAD: the origin's length
            length_value = next((v for n, v in answer.headers
                                 if n.lower() == "content-length"), None)
        self.send_response(answer.status)
        for name, value in out:
            if name.lower() not in ("date", "server", "content-length", "connection"):
                self.send_header(name, value)
        if length_value is not None and answer.status != 304:
            self.send_header("Content-Length", length_value)
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def version_string(self) -> str:
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        return email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc),
                                           usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass


def _weak(etag: str) -> str:
    """CloudFront weakens the ETag of an object it compressed."""
    return etag if etag.startswith("W/") else f"W/{etag}"
