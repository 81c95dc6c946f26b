"""The twin's application load balancer: HAProxy configured from the ELBv2 state.

``autobuy/alb:latest`` (Debian's ``haproxy``, ``images/alb``, built by ``make images``)
runs as ``localcloud-alb-<owner>`` on the twin network, in master-worker mode. It is
started when the first application load balancer has a listener, and serves the oldest
such load balancer (the stack has one; others are reported as not served):

* each listener is a ``frontend`` bound to the listener's port on the twin network; the
  first HTTP listener is also published on ``127.0.0.1:LOCALCLOUD_ALB_HTTP_PORT`` and the
  first HTTPS listener on ``127.0.0.1:LOCALCLOUD_ALB_HTTPS_PORT``;
* rules (``host-header``, ``path-pattern``) and actions (``forward``, ``redirect``,
  ``fixed-response``) in priority order, then the default action;
* HTTPS: the listener's ACM certificate and key, and exactly the TLS versions and
  ciphers of its SSL policy (:data:`SSL_POLICIES`);
* each target group is a ``backend`` with its health check (path, matcher, interval,
  timeout, thresholds; intervals scaled by ``LOCALCLOUD_TIME_SCALE`` but never below
  :data:`MIN_INTERVAL` / :data:`MIN_TIMEOUT`), ``AWSALB`` cookie stickiness and
  ``routing.http.drop_invalid_header_fields.enabled``;
* errors as an ALB answers them: no retry of a target that refused or reset the
  connection (HAProxy's default is 3 retries, 1 s apart): 502 at once; 503 when the
  target group has no target to send to; a target's own answers pass unchanged.

The configuration is regenerated after every ELBv2 call that changes it (and every
twin cycle); when its text changed it is checked (``haproxy -c``), the servers' state
is saved to the state file, and the master reloads (SIGUSR2): the new worker starts
with the saved health of every server, the old one finishes its connections.

A new target starts in maintenance, is forced down and released, so it must pass
``HealthyThresholdCount`` checks before it gets traffic (``initial``, as on AWS). A
deregistered target is put in maintenance (no new requests, in-flight ones finish) for
the target group's ``deregistration_delay.timeout_seconds`` (scaled), reported as
``draining``, then its sessions are shut and it leaves the configuration.
``DescribeTargetHealth`` reads HAProxy's runtime API (``show stat``).
"""
from __future__ import annotations

import csv
import io
import re
import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud import settings
from localcloud.twin import docker

IMAGE = "autobuy/alb:latest"
#: Ports inside the container published on the host's LOCALCLOUD_ALB_HTTP(S)_PORT.
HOST_HTTP, HOST_HTTPS = 18080, 18443
#: A scaled health check never runs more often than this, nor waits less than
#: MIN_TIMEOUT for an answer: a real server on a loaded machine needs that much.
MIN_INTERVAL = 1.0
MIN_TIMEOUT = 2.0
MOUNT = "/etc/twin-alb"

_TLS13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
_ECDHE_12 = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
             "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:"
             "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
             "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384")
_ECDHE_12_GCM = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                 "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384")


@dataclass(frozen=True)
class SslPolicy:
    """TLS versions (HAProxy's names) and ciphers (OpenSSL's names) of an ELB policy."""

    min_version: str
    max_version: str
    ciphers: str  # TLS 1.2 and older
    ciphersuites: str  # TLS 1.3 ("" when the policy has no TLS 1.3)


#: AWS's ELB security policies (docs.aws.amazon.com/elasticloadbalancing/latest/
#: application/describe-ssl-policies.html), the ones the playbooks and moto's default use.
SSL_POLICIES: dict[str, SslPolicy] = {
    "ELBSecurityPolicy-TLS13-1-2-2021-06": SslPolicy("TLSv1.2", "TLSv1.3", _ECDHE_12, _TLS13),
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06": SslPolicy(
        "TLSv1.2", "TLSv1.3", _ECDHE_12_GCM, _TLS13),
    "ELBSecurityPolicy-TLS13-1-3-2021-06": SslPolicy("TLSv1.3", "TLSv1.3", "", _TLS13),
    "ELBSecurityPolicy-TLS-1-2-2017-01": SslPolicy(
        "TLSv1.2", "TLSv1.2",
        _ECDHE_12 + ":AES128-GCM-SHA256:AES128-SHA256:AES256-GCM-SHA384:AES256-SHA256", ""),
    "ELBSecurityPolicy-2016-08": SslPolicy(
        "TLSv1.0", "TLSv1.2",
        _ECDHE_12 + ":ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:"
        "ECDHE-ECDSA-AES256-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA:"
        "AES256-GCM-SHA384:AES256-SHA256:AES256-SHA:@SECLEVEL=0", ""),
}
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"

_REASONS = {  # HAProxy check_status -> (AWS reason, description)
    "L7STS": ("Target.ResponseCodeMismatch", "Health checks failed with these codes: [{code}]"),
    "L4TOUT": ("Target.Timeout", "Request timed out"),
    "L7TOUT": ("Target.Timeout", "Request timed out"),
    "L6TOUT": ("Target.Timeout", "Request timed out"),
}
_FAILED = ("Target.FailedHealthChecks", "Health checks failed")


class BalancerError(RuntimeError):
    """The ELBv2 state asks for something the twin's balancer cannot serve."""


def scaled(seconds: float, floor: float) -> float:
    return max(floor, float(seconds) * settings.time_scale())


#: Real seconds a deregistered target keeps finishing its requests (when the target group's
#: delay is at least that long): requests in flight are real work, not simulated time, so
#: the scaled delay never cuts them shorter than this.
DRAIN_MARGIN = 5.0


def drain_seconds(delay: float) -> float:
    """Real seconds of a target group's ``deregistration_delay.timeout_seconds``."""
    return max(float(delay) * settings.time_scale(), min(float(delay), DRAIN_MARGIN))


def _name(value: str) -> str:
    """An HAProxy identifier (letters, digits, ``-_.:``) for an AWS name or id."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", value)


def _quote(value: str) -> str:
    """A double-quoted HAProxy argument (no environment variable expansion)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def _wildcard(pattern: str) -> str:
    """An ELB condition value (``*`` and ``?`` wildcards) as an anchored regex."""
    return "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                         for c in pattern) + "$"


def status_regex(matcher: str) -> str:
    """``HttpCode`` (``200``, ``200-299``, ``200,202``) as a regex of status codes."""
    codes: list[str] = []
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise BalancerError(f"matcher HttpCode {matcher!r} is not codes or ranges")
        codes.extend(str(c) for c in range(int(low), int(high or low) + 1))
    return "^(" + "|".join(codes) + ")$"


@dataclass
class Target:
    group_arn: str
    target_id: str
    port: int
    address: str

    @property
    def server(self) -> str:
        return _name(f"{self.target_id}-{self.port}")


@dataclass
class Health:
    state: str
    reason: str | None = None
    description: str | None = None


@dataclass
class _Tracked:
    """What the balancer remembers of a target between calls."""

    activated: bool = False
    activated_at: float = 0.0
    seen_up: bool = False
    drain_until: float | None = None
    target: Target | None = None


@dataclass
class Plan:
    """The generated configuration and what it needs."""

    text: str
    certificates: dict[str, bytes]  # file name -> cert + key PEM
    targets: dict[tuple[str, str], Target]  # (backend, server) -> target
    served: dict[str, Any]
    errors: list[str] = field(default_factory=list)


class Balancer(docker.Service):
    """The HAProxy container of one local cloud server."""

    def __init__(self, workdir: Path, owner: str, network: str, image: str = IMAGE) -> None:
        super().__init__("alb", owner, network, image)
        self.workdir = workdir
        self.container = f"localcloud-alb-{owner}"
        self.address = ""
        self.http_port = 0
        self.https_port = 0
        self._lock = threading.RLock()
        self._started = False
        self._applied = ""
        self._tracked: dict[tuple[str, str], _Tracked] = {}  # (backend, server)
        self._draining: dict[tuple[str, str], _Tracked] = {}
        self._plan: Plan | None = None
        self._said: list[str] = []  # the errors last logged (each logged once, not each cycle)
        self._start_error = ""

    # -- container ------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        return self.workdir / "run" / "admin.sock"

    def _start(self, text: str) -> None:
        self.require_image("the twin's load balancer")
        http, https = settings.alb_http_port(), settings.alb_https_port()
        self._write(text)
        result = docker.run(["run", "-d", "--name", self.container,
                             *self.labels(), "--network", self.network,
                             "-p", f"127.0.0.1:{http}:{HOST_HTTP}",
                             "-p", f"127.0.0.1:{https}:{HOST_HTTPS}",
                             "-v", f"{self.workdir}:{MOUNT}",
                             self.image, "-f", f"{MOUNT}/haproxy.cfg"], check=False)
        if result.returncode != 0:
            docker.run(["rm", "-f", self.container], check=False)
            raise docker.DockerError(
                f"the twin's load balancer cannot start on 127.0.0.1:{http} "
                f"(LOCALCLOUD_ALB_HTTP_PORT) and 127.0.0.1:{https} (LOCALCLOUD_ALB_HTTPS_PORT): "
                f"{result.stderr.decode(errors='replace').strip()}")
        self.http_port, self.https_port = http, https
        template = f'{{{{(index .NetworkSettings.Networks "{self.network}").IPAddress}}}}'
        self.address = docker.run(["inspect", "-f", template,
                                   self.container]).stdout.decode().strip()
        self._started = True
        self._wait_for_worker(None)

    def _write(self, text: str, suffix: str = "") -> None:
        (self.workdir / "run").mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o700)
        certs = self.workdir / "certs"
        certs.mkdir(exist_ok=True)
        assert self._plan is not None
        for name, pem in self._plan.certificates.items():
            path = certs / name
            if not path.exists() or path.read_bytes() != pem:
                tmp = certs / f".{name}.tmp"
                tmp.write_bytes(b"")
                tmp.chmod(0o600)
                tmp.write_bytes(pem)
                tmp.replace(path)
        (self.workdir / f"haproxy.cfg{suffix}").write_text(text)

    def _wait_for_worker(self, old_pid: str | None, timeout: float = 30) -> None:
        """Wait until a worker (other than ``old_pid``) answers on the stats socket."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid = re.search(r"^Pid: (\d+)", self.command("show info"), re.M)
                if pid and pid.group(1) != old_pid:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                logs = docker.run(["logs", "--tail", "30", self.container], check=False)
                raise docker.DockerError(
                    f"the load balancer {self.container} did not answer within {timeout:g} s: "
                    f"{logs.stderr.decode(errors='replace')[-2000:]}")
            time.sleep(0.1)

    def command(self, line: str) -> str:
        """One command on HAProxy's runtime API (the stats socket)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.socket_path))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")

    # -- applying the ELBv2 state ------------------------------------------------------
    def sync(self, state: Any) -> None:
        """Bring HAProxy in line with ``state`` (an :class:`ElbState`); idempotent."""
        with self._lock:
            now = time.monotonic()
            for key, tracked in list(self._draining.items()):
                if tracked.drain_until is not None and now >= tracked.drain_until:
                    del self._draining[key]
                    self._tracked.pop(key, None)
                    if self._started:
                        self._runtime(f"shutdown sessions server {key[0]}/{key[1]}")
            plan = generate(state, self._activated_keys(), self._draining)
            self._plan = plan
            if plan.errors != self._said:
                for error in plan.errors:
                    if error not in self._said:
                        print(f"localcloud: twin: load balancer: {error}", file=sys.stderr,
                              flush=True)
                self._said = list(plan.errors)
            if not plan.served:
                return
            if not self._started:
                try:
                    self._start(plan.text)
                except docker.DockerError as exc:
                    if str(exc) == self._start_error:
                        return  # said once already; retried every cycle
                    self._start_error = str(exc)
                    raise
                self._start_error = ""
                self._applied = plan.text
            elif plan.text != self._applied:
                self._reload(plan.text)
                self._applied = plan.text
            self._activate_new(plan)

    def _activated_keys(self) -> set[tuple[str, str]]:
        return {key for key, tracked in self._tracked.items() if tracked.activated}

    def _reload(self, text: str) -> None:
        self._write(text, ".new")
        checked = docker.run(["exec", self.container, "haproxy", "-c",
                              "-f", f"{MOUNT}/haproxy.cfg.new"], check=False)
        if checked.returncode != 0:
            said = (checked.stdout + checked.stderr).decode(errors="replace").strip()
            raise BalancerError(f"the generated HAProxy configuration is refused: {said[-1500:]}")
        (self.workdir / "haproxy.cfg.new").replace(self.workdir / "haproxy.cfg")
        (self.workdir / "run" / "servers.state").write_text(self.command("show servers state"))
        info = re.search(r"^Pid: (\d+)", self.command("show info"), re.M)
        docker.run(["kill", "-s", "USR2", self.container])
        self._wait_for_worker(info.group(1) if info else None)

    def _activate_new(self, plan: Plan) -> None:
        """Targets new in the configuration start in maintenance; release them and force
        them down, so they serve only after passing the healthy threshold."""
        for key, target in plan.targets.items():
            tracked = self._tracked.setdefault(key, _Tracked())
            tracked.target = target
            if tracked.activated or key in self._draining:
                continue
            server = f"{key[0]}/{key[1]}"  # one connection: no request in between
            self._runtime(f"set server {server} state ready; set server {server} health down")
            tracked.activated, tracked.activated_at = True, time.monotonic()

    def _runtime(self, line: str) -> None:
        answer = self.command(line).strip()
        if answer and not answer.startswith(("Shutting", "No such")):
            print(f"localcloud: twin: load balancer: {line}: {answer}", file=sys.stderr,
                  flush=True)

    def drain(self, backend: str, server: str, seconds: float) -> None:
        """A deregistered target: no new requests for ``seconds``, then removed."""
        with self._lock:
            key = (backend, server)
            tracked = self._tracked.get(key)
            if tracked is None or not tracked.activated:
                self._tracked.pop(key, None)
                return
            tracked.drain_until = time.monotonic() + seconds
            self._draining[key] = tracked
            if self._started:
                self._runtime(f"set server {backend}/{server} state maint")

    def draining(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self._draining)

    def draining_targets(self, group_arn: str) -> list[Target]:
        with self._lock:
            return [t.target for t in self._draining.values()
                    if t.target is not None and t.target.group_arn == group_arn]

    # -- health ---------------------------------------------------------------------------
    def stats(self) -> dict[tuple[str, str], dict[str, str]]:
        if not self._started:
            return {}
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {(row["pxname"], row["svname"]): row for row in rows
                if row.get("svname") not in ("FRONTEND", "BACKEND")}

    def health(self, backend: str, server: str, unhealthy_after: float,
               checks: bool = True) -> Health:
        """What HAProxy sees of one target, in ELB's terms."""
        with self._lock:
            key = (backend, server)
            if key in self._draining:
                return Health("draining", "Target.DeregistrationInProgress",
                              "Target deregistration is in progress")
            if not checks:
                return Health("unavailable", "Target.HealthCheckDisabled",
                              "Health checks are disabled for the target group")
            if self._plan is None or key not in self._plan.targets:
                return Health("unused", "Target.NotInUse",
                              "Target group is not configured to receive traffic "
                              "from the load balancer")
            tracked = self._tracked.get(key)
            row = self.stats().get(key)
            if tracked is None or row is None or not tracked.activated:
                return Health("initial", "Elb.RegistrationInProgress",
                              "Target registration is in progress")
            status = row.get("status", "")
            if status.startswith("UP"):
                tracked.seen_up = True
                return Health("healthy")
            check = row.get("check_status", "").lstrip("* ")
            reason, description = _REASONS.get(check, _FAILED)
            description = description.format(code=row.get("check_code", ""))
            failed = check not in ("", "INI", "L7OK", "L7OKC", "L4OK", "L6OK")
            if not tracked.seen_up and (
                    not failed or time.monotonic() - tracked.activated_at < unhealthy_after):
                return Health("initial", "Elb.RegistrationInProgress",
                              "Target registration is in progress")
            return Health("unhealthy", reason if failed else _FAILED[0],
                          description if failed else _FAILED[1])

    def report(self) -> dict[str, Any]:
        plan = self._plan
        return {
            "container": self.container if self._started else "",
            "address": self.address,
            "http": f"127.0.0.1:{self.http_port}" if self.http_port else "",
            "https": f"127.0.0.1:{self.https_port}" if self.https_port else "",
            "served": plan.served if plan else {},
            "errors": ([self._start_error] if self._start_error else [])
            + (plan.errors if plan else []),
        }


# -- the ELBv2 state, read from moto ------------------------------------------------------
@dataclass
class ElbState:
    """What the configuration is generated from (read from moto by the patch)."""

    load_balancers: list[Any]  # FakeLoadBalancer, oldest first
    listeners: dict[str, list[Any]]  # load balancer arn -> FakeListener
    target_groups: dict[str, Any]  # arn -> FakeTargetGroup
    certificates: dict[str, tuple[bytes, bytes]]  # ACM arn -> (cert PEM, key PEM) if ISSUED
    addresses: dict[str, str]  # target id -> IP address


def backend_name(group: Any) -> str:
    return _name(f"tg-{group.name}")


def generate(state: ElbState, activated: Iterable[tuple[str, str]],
             draining: dict[tuple[str, str], _Tracked]) -> Plan:
    """The HAProxy configuration for the oldest load balancer with listeners."""
    activated = set(activated)
    errors: list[str] = []
    served_lb = next((lb for lb in state.load_balancers
                      if getattr(lb, "type", "application") == "application"
                      and state.listeners.get(lb.arn)), None)
    for lb in state.load_balancers:
        if lb is not served_lb and state.listeners.get(lb.arn):
            errors.append(f"{lb.name} is not served: the twin serves one load balancer "
                          f"({served_lb.name if served_lb else '-'})")
    if served_lb is None:
        return Plan("", {}, {}, {}, errors)
    attrs = served_lb.attrs
    idle = int(attrs.get("idle_timeout.timeout_seconds", "60") or 60)
    drop_invalid = attrs.get("routing.http.drop_invalid_header_fields.enabled") == "true"
    listeners = sorted(state.listeners[served_lb.arn], key=lambda li: int(li.port))
    longest_drain = max([float(tg.attributes.get("deregistration_delay.timeout_seconds", 300))
                         for tg in state.target_groups.values()] or [0])
    out = [
        "# Generated by the local cloud (localcloud/twin/balancer.py) from the ELBv2 state;",
        "# regenerated and reloaded when that state changes: do not edit.",
        f"# Application load balancer {served_lb.name} ({served_lb.arn})",
        f"# DNS name {served_lb.dns_name}",
        "global",
        f"    stats socket {MOUNT}/run/admin.sock mode 600 level admin",
        f"    server-state-file {MOUNT}/run/servers.state",
        f"    hard-stop-after {int(scaled(longest_drain, 1) + idle + 5)}s",
        "    log stdout format raw local0 notice",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option forwardfor",
        "    load-server-state-from-file global",
        "    timeout connect 5s",
        f"    timeout client {idle}s   # idle_timeout.timeout_seconds",
        f"    timeout server {idle}s",
        "    timeout http-request 10s",
        "    # An ALB does not retry a target that refused or reset the connection: it answers",
        "    # 502 at once (HAProxy would retry 3 times, 1 s apart, then answer 503).",
        "    retries 0",
    ]
    served: dict[str, Any] = {"name": served_lb.name, "arn": served_lb.arn,
                              "dns_name": served_lb.dns_name, "listeners": []}
    used_groups: list[str] = []
    certificates: dict[str, bytes] = {}
    host_http = host_https = False
    for listener in listeners:
        protocol, port = listener.protocol, int(listener.port)
        block = ["", f"# Listener {protocol}:{port} ({listener.arn})",
                 f"frontend listener-{port}"]
        published = ""
        try:
            if protocol == "HTTP":
                binds = [f":{port}"]
                if not host_http:
                    binds.append(f":{HOST_HTTP}")
                    host_http, published = True, "http"
                block += [f"    bind {b}" for b in binds]
            elif protocol == "HTTPS":
                policy_name = listener.ssl_policy or DEFAULT_SSL_POLICY
                policy = SSL_POLICIES.get(policy_name)
                if policy is None:
                    raise BalancerError(
                        f"SSL policy {policy_name} is not known to the twin (known: "
                        f"{', '.join(SSL_POLICIES)}; add it to localcloud/twin/balancer.py)")
                arn = listener.certificate or (listener.certificates or [None])[0]
                if not arn or arn not in state.certificates:
                    raise BalancerError(f"certificate {arn} is not an issued ACM certificate")
                cert, key = state.certificates[arn]
                pem_name = f"listener-{port}.pem"
                certificates[pem_name] = cert.rstrip(b"\n") + b"\n" + key
                tls = (f"ssl crt {MOUNT}/certs/{pem_name} ssl-min-ver {policy.min_version} "
                       f"ssl-max-ver {policy.max_version}")
                if policy.ciphers:
                    tls += f" ciphers {policy.ciphers}"
                if policy.ciphersuites:
                    tls += f" ciphersuites {policy.ciphersuites}"
                binds = [f":{port}"]
                if not host_https:
                    binds.append(f":{HOST_HTTPS}")
                    host_https, published = True, "https"
                block.append(f"    # certificate {arn}, SSL policy {policy_name}")
                block += [f"    bind {b} {tls}" for b in binds]
            else:
                raise BalancerError(f"listener protocol {protocol} is not served (HTTP, HTTPS)")
            block += ["    # a target that could not be reached: 502, as an ALB answers; the target's",
                      "    # own 503 and HAProxy's 503 when no target is registered stay 503",
                      "    http-after-response set-status 502 if { status 503 } { srv_id -m found } "
                      "!{ var(txn.answered) -m bool }"]
            if drop_invalid:
                block += ["    # routing.http.drop_invalid_header_fields.enabled",
                          "    http-request del-header [^-A-Za-z0-9] -m reg"]
            rules = sorted((r for r in listener.rules.values() if not r.is_default),
                           key=lambda r: int(r.priority))
            for rule in rules:
                condition = _conditions(rule.conditions)
                block.append(f"    # Rule {rule.priority} ({rule.arn})")
                block += _actions(rule.actions, condition, protocol, port, state, used_groups)
            block.append("    # Default action")
            block += _actions(listener.default_actions, "", protocol, port, state, used_groups)
        except BalancerError as exc:
            errors.append(f"listener {protocol}:{port} ({listener.arn}) is not served: {exc}")
            if published == "http":
                host_http = False
            if published == "https":
                host_https = False
            continue
        out += block
        served["listeners"].append({"protocol": protocol, "port": port, "arn": listener.arn,
                                    "host_port": published})
    if not host_http:
        out += ["", "# No HTTP listener: the host's LOCALCLOUD_ALB_HTTP_PORT says so.",
                "frontend no-http-listener", f"    bind :{HOST_HTTP}",
                "    http-request return status 503 content-type text/plain "
                "string \"no HTTP listener of the load balancer\""]
    targets: dict[tuple[str, str], Target] = {}
    for arn in dict.fromkeys(used_groups):
        group = state.target_groups[arn]
        out += _backend(group, state, activated, draining, targets, errors)
    return Plan("\n".join(out) + "\n", certificates, targets, served, errors)


def _conditions(conditions: list[dict[str, Any]]) -> str:
    parts = []
    for condition in conditions:
        field_name = condition.get("Field")
        values = condition.get("Values") or []
        if field_name == "host-header":
            values = values or (condition.get("HostHeaderConfig") or {}).get("Values", [])
            regex = "|".join(_wildcard(v.lower()) for v in values)
            parts.append(f"{{ req.hdr(host),field(1,:),lower -m reg {_quote(regex)} }}")
        elif field_name == "path-pattern":
            values = values or (condition.get("PathPatternConfig") or {}).get("Values", [])
            regex = "|".join(_wildcard(v) for v in values)
            parts.append(f"{{ path -m reg {_quote(regex)} }}")
        else:
            raise BalancerError(f"rule condition {field_name} is not served "
                                "(host-header, path-pattern)")
    return " ".join(parts)


def _actions(actions: list[Any], condition: str, protocol: str, port: int, state: ElbState,
             used_groups: list[str]) -> list[str]:
    action = next((a for a in actions if a.type in ("forward", "redirect", "fixed-response")),
                  None)
    if action is None:
        raise BalancerError(f"actions {[a.type for a in actions]} are not served "
                            "(forward, redirect, fixed-response)")
    when = f" if {condition}" if condition else ""
    data = action.data
    if action.type == "forward":
        arns = [data["TargetGroupArn"]] if data.get("TargetGroupArn") else [
            g["TargetGroupArn"] for g in (data.get("ForwardConfig") or {}).get("TargetGroups", [])]
        if len(arns) != 1:
            raise BalancerError("a forward to several weighted target groups is not served")
        group = state.target_groups.get(arns[0])
        if group is None:
            raise BalancerError(f"target group {arns[0]} does not exist")
        used_groups.append(group.arn)
        return [f"    use_backend {backend_name(group)}{when}"]
    if action.type == "redirect":
        config = data.get("RedirectConfig") or {}
        scheme = config.get("Protocol", "#{protocol}").replace("#{protocol}", protocol).lower()
        to_port = config.get("Port", "#{port}").replace("#{port}", str(port))
        host = config.get("Host", "#{host}").replace("#{host}", "%[req.hdr(host),field(1,:)]")
        path = config.get("Path", "/#{path}").replace("#{path}", "%[path,regsub(^/,)]")
        query = config.get("Query", "#{query}").replace("#{query}", "%[query]")
        code = {"HTTP_301": 301, "HTTP_302": 302}.get(config.get("StatusCode", ""), None)
        if code is None:
            raise BalancerError(f"redirect status {config.get('StatusCode')!r} "
                                "(HTTP_301, HTTP_302)")
        default_port = {"http": "80", "https": "443"}.get(scheme)
        authority = host if to_port == default_port else f"{host}:{to_port}"
        base = f"{scheme}://{authority}{path}"
        has_query = "{ query -m len gt 0 }"
        return [
            f"    http-request redirect location {_quote(base + '?' + query)} code {code}"
            f" if {condition + ' ' if condition else ''}{has_query}",
            f"    http-request redirect location {_quote(base)} code {code}{when}",
        ]
    config = data.get("FixedResponseConfig") or {}
    status = int(config.get("StatusCode", "200"))
    content_type = config.get("ContentType", "text/plain")
    body = config.get("MessageBody", "")
    line = f"    http-request return status {status} content-type {_quote(content_type)}"
    if body:
        line += f" string {_quote(body)}"
    return [line + when]


def _backend(group: Any, state: ElbState, activated: set[tuple[str, str]],
             draining: dict[tuple[str, str], _Tracked], targets: dict[tuple[str, str], Target],
             errors: list[str]) -> list[str]:
    name = backend_name(group)
    attrs = group.attributes
    interval = float(group.health_check_interval_seconds)
    timeout = float(group.health_check_timeout_seconds)
    healthy, unhealthy = int(group.healthy_threshold_count), int(group.unhealthy_threshold_count)
    checks = str(group.health_check_enabled).lower() != "false"
    path = group.health_check_path or "/"
    matcher = (group.matcher or {}).get("HttpCode", "200")
    out = ["", f"# Target group {group.name} ({group.arn})",
           f"# health check {group.health_check_protocol} {path} every {interval:g} s "
           f"(scaled: {scaled(interval, MIN_INTERVAL):g} s), timeout {timeout:g} s "
           f"(scaled: {scaled(timeout, MIN_TIMEOUT):g} s), healthy after {healthy}, "
           f"unhealthy after {unhealthy}, codes {matcher}",
           f"backend {name}", "    balance roundrobin",
           "    http-response set-var(txn.answered) bool(true)  # the target answered"]
    if checks:
        out += ["    option httpchk",
                f"    http-check send meth GET uri {path} ver HTTP/1.1 hdr Host localhost",
                f"    http-check expect rstatus {_quote(status_regex(matcher))}",
                f"    timeout check {int(scaled(timeout, MIN_TIMEOUT) * 1000)}ms",
                f"    default-server inter {int(scaled(interval, MIN_INTERVAL) * 1000)}ms "
                f"fall {unhealthy} rise {healthy}"]
    sticky = (attrs.get("stickiness.enabled") == "true"
              and attrs.get("stickiness.type", "lb_cookie") == "lb_cookie")
    if sticky:
        duration = int(attrs.get("stickiness.lb_cookie.duration_seconds", "86400"))
        out += [f"    # stickiness.lb_cookie.duration_seconds {duration}",
                f"    cookie AWSALB insert indirect nocache maxlife {duration}s "
                f"attr \"Max-Age={duration}\""]
    registered = {(t["Id"], int(t.get("Port") or group.port)): state.addresses.get(t["Id"], "")
                  for t in group.targets.values()}
    for tracked in draining.values():  # deregistered, still finishing their requests
        if tracked.target is not None and tracked.target.group_arn == group.arn:
            registered.setdefault((tracked.target.target_id, tracked.target.port),
                                  tracked.target.address)
    health_port = group.health_check_port
    for (target_id, port), address in registered.items():
        if not address:
            errors.append(f"target {target_id} of {group.name} has no address on the twin")
            continue
        target = Target(group.arn, target_id, port, address)
        key = (name, target.server)
        targets[key] = target
        line = f"    server {target.server} {address}:{port}"
        if checks:
            line += " check"
            if health_port and health_port not in ("traffic-port", str(port)):
                line += f" port {health_port}"
            if group.health_check_protocol == "HTTPS":
                line += " check-ssl verify none"
        if sticky:
            line += f" cookie {target.server}"
        if key not in activated:
            line += " disabled   # new: released by the local cloud after the reload"
        out.append(line)
    return out
