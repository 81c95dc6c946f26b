"""What the instance role and the VPC give an EC2 instance on AWS, for the twin's instances.

Served by the local cloud on the **gateway address of the twin network** only (an address
of this host that the containers on that network reach; nothing listens on other
interfaces):

* **The AWS endpoint** on port 443: TLS with a certificate from the twin's CA for the host
  name the client asked for (SNI, any ``*.amazonaws.com`` name, issued on first use), the
  bytes passed on unchanged to the local cloud on 127.0.0.1 (moto dispatches by ``Host``
  and the signature, as for any client). Instances resolve the AWS service host names of
  their region to this address through their ``/etc/hosts`` (:func:`service_hosts`), so
  the SDK/CLI of any version reaches "AWS" with no endpoint setting. It answers for
  ``stripe.twin.internal`` as well, the name the Stripe stand-in has on the twin
  network (:mod:`localcloud.twin.stripe_host`).
* **The instance metadata service** (IMDS, :class:`Metadata`) on a free port: IMDSv2
  tokens (``PUT /latest/api/token`` with the TTL header), IMDSv1 refused when the
  instance's ``HttpTokens`` is ``required``, the instance told by the source address of
  the connection (its container's address on the twin network; any other source: 403).
  Inside the instance, the image's ``localcloud-imds`` service (images/ami) listens on
  169.254.169.254:80 and forwards each connection here, after a PROXY protocol v1 line
  naming the client: a token PUT from a container on the instance's own Docker network is
  one hop away and gets no answer unless ``HttpPutResponseHopLimit`` is 2 or more (AWS).

The instance container gets the directory :attr:`InstanceServices.mount` read-only at
``/etc/localcloud``: ``ca.crt`` (the twin's CA, installed in its trust store at boot) and
``imds`` (``address:port`` of the metadata service).
"""
from __future__ import annotations

import datetime
import http.server
import json
import secrets
import select
import shutil
import socket
import socketserver
import ssl
import threading
import time
from pathlib import Path
from typing import Any

from localcloud.twin import docker, stripe_host
from localcloud.twin.ca import CertificateAuthority

MOUNT_POINT = "/etc/localcloud"
API_PORT = 443
#: Longest IMDSv2 token TTL AWS accepts (6 hours).
MAX_TOKEN_TTL = 21600
#: Instance credentials last this long; handed out again until 15 minutes are left (AWS
#: rotates them well before they expire as well).
CREDENTIAL_SECONDS = 6 * 3600
CREDENTIAL_REFRESH_SECONDS = 15 * 60


def gateway(network: str) -> str:
    """The host's address on the Docker network."""
    out = docker.run(["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}",
                      network]).stdout.decode().split()
    if not out:
        raise docker.DockerError(f"network {network} has no gateway address")
    return out[0]


def service_hosts(region: str) -> list[str]:
    """The host names of the AWS services' endpoints in ``region`` (botocore's endpoint
    data), plus the global ones (``sts.amazonaws.com``, ``iam.amazonaws.com``, ...)."""
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    data = create_loader().load_data("endpoints")
    resolver = EndpointResolver(data)
    hosts: list[str] = []
    for partition in data["partitions"]:
        if partition["partition"] != "aws":
            continue
        for service in partition["services"]:
            endpoint = resolver.construct_endpoint(service, region)
            hostname = (endpoint or {}).get("hostname", "")
            if hostname.endswith(".amazonaws.com"):
                hosts.append(hostname)
            endpoint = resolver.construct_endpoint(service, "aws-global")
            hostname = (endpoint or {}).get("hostname", "")
            if hostname.endswith(".amazonaws.com"):
                hosts.append(hostname)
    hosts += [f"sts.{region}.amazonaws.com", "sts.amazonaws.com"]
    return sorted(set(hosts))


class _Endpoint(socketserver.ThreadingTCPServer):
    """TLS on the gateway address, passed on as plain HTTP to the local cloud."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], ca: CertificateAuthority, certs: Path,
                 upstream: tuple[str, int]) -> None:
        self.ca, self.certs, self.upstream = ca, certs, upstream
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self.context = self._context(address[0], ip=True)
        self.context.sni_callback = self._sni
        super().__init__(address, _Pipe)

    def _context(self, name: str, ip: bool = False) -> ssl.SSLContext:
        with self._lock:
            context = self._contexts.get(name)
            if context is None:
                issued = self.ca.issue([], [name]) if ip else self.ca.issue([name])
                cert, key = issued.write(self.certs, name)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.load_cert_chain(cert, key)
                self._contexts[name] = context
            return context

    def _sni(self, sock: ssl.SSLSocket, name: str | None, _context: ssl.SSLContext) -> None:
        if name and (name.lower().endswith(".amazonaws.com") or stripe_host.serves(name)):
            sock.context = self._context(name.lower())


class _Pipe(socketserver.BaseRequestHandler):
    server: _Endpoint

    def handle(self) -> None:
        try:
            tls = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not trust the CA, or not TLS at all
        with tls, socket.create_connection(self.server.upstream, timeout=30) as upstream:
            tls.settimeout(None)
            upstream.settimeout(None)
            sockets = [tls, upstream]
            while True:
                ready = [tls] if tls.pending() else select.select(sockets, [], [], 600)[0]
                if not ready:
                    return
                for sock in ready:
                    try:
                        data = sock.recv(65536)
                    except (ssl.SSLError, OSError):
                        return
                    if not data:
                        return
                    (upstream if sock is tls else tls).sendall(data)


class Metadata(http.server.ThreadingHTTPServer):
    """The instance metadata service (IMDSv1 and v2) of the twin's instances."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], network: str) -> None:
        self.network = network
        self.instances: dict[str, Any] = {}  # instance id -> moto Instance
        self._by_address: dict[str, str] = {}  # container address -> instance id
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (instance id, expiry)
        self._credentials: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        super().__init__(address, _MetadataHandler)

    def instance_at(self, address: str) -> Any | None:
        """The instance whose container has ``address`` on the twin network."""
        with self._lock:
            instance_id = self._by_address.get(address)
            if instance_id is None or instance_id not in self.instances:
                names = [f"localcloud-{i}" for i in self.instances]
                found = docker.run(["inspect", "-f", "{{.Name}} {{range $k, $v := "
                                    ".NetworkSettings.Networks}}{{$v.IPAddress}} {{end}}",
                                    *names], check=False).stdout.decode() if names else ""
                self._by_address = {}
                for line in found.splitlines():
                    name, *addresses = line.split()
                    for each in addresses:
                        self._by_address[each] = name.lstrip("/").removeprefix("localcloud-")
                instance_id = self._by_address.get(address)
            return self.instances.get(instance_id or "")

    def new_token(self, instance_id: str, ttl: int) -> str:
        token = secrets.token_urlsafe(40)
        now = time.monotonic()
        with self._lock:
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (instance_id, now + ttl)
        return token

    def token_valid(self, token: str, instance_id: str) -> bool:
        owner, expiry = self._tokens.get(token, ("", 0.0))
        return owner == instance_id and expiry > time.monotonic()

    def credentials(self, instance: Any, role_arn: str) -> dict[str, str]:
        """Temporary credentials of the role from moto's STS (cached until 15 min are left)."""
        from moto.sts.models import sts_backends

        with self._lock:
            cached = self._credentials.get(instance.id)
            now = datetime.datetime.now(datetime.timezone.utc)
            if cached is None or cached["RoleArn"] != role_arn or (
                    datetime.datetime.fromisoformat(cached["Expiration"].replace("Z", "+00:00"))
                    - now).total_seconds() < CREDENTIAL_REFRESH_SECONDS:
                backend = sts_backends[instance.ec2_backend.account_id][instance.ec2_backend.partition]
                role = backend.assume_role(
                    region_name=instance.ec2_backend.region_name, role_session_name=instance.id,
                    role_arn=role_arn, policy="", duration=CREDENTIAL_SECONDS, external_id="")
                cached = {
                    "Code": "Success", "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "Type": "AWS-HMAC", "AccessKeyId": role.access_key_id,
                    "SecretAccessKey": role.secret_access_key, "Token": role.session_token,
                    "Expiration": role.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "RoleArn": role_arn,
                }
                self._credentials[instance.id] = cached
            return {k: v for k, v in cached.items() if k != "RoleArn"}


def instance_profile(instance: Any) -> Any | None:
    """The IAM instance profile associated with the instance (RunInstances' own or the
    launch template's, see ec2_containers; AssociateIamInstanceProfile)."""
    association = instance.ec2_backend.iam_instance_profile_associations.get(instance.id)
    return association.iam_instance_profile if association is not None else None


def _role(instance: Any) -> Any | None:
    profile = instance_profile(instance)
    roles = list(getattr(profile, "roles", []) or [])
    return roles[0] if roles else None


def meta_data(instance: Any, path: str, server: Metadata) -> tuple[str, str] | None:
    """(content type, body) of ``/latest/<path>``, None when there is no such item."""
    backend = instance.ec2_backend
    zone = instance.placement.zone
    role = _role(instance)
    items: dict[str, str] = {
        "ami-id": instance.image_id,
        "hostname": instance.private_dns_name,
        "instance-id": instance.id,
        "instance-type": instance.instance_type,
        "local-hostname": instance.private_dns_name,
        "local-ipv4": instance.private_ip or "",
        "placement/availability-zone": zone,
        "placement/region": backend.region_name,
        "services/domain": "amazonaws.com",
        "services/partition": "aws",
    }
    if role is not None:
        profile = instance_profile(instance)
        items["iam/info"] = json.dumps({
            "Code": "Success", "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "InstanceProfileArn": profile.arn, "InstanceProfileId": profile.id})
        items["iam/security-credentials"] = role.name
    path = path.rstrip("/")
    if path == "meta-data":
        names = sorted({name.split("/")[0] + ("/" if "/" in name else "") for name in items})
        return "text/plain", "\n".join(names)
    if path.startswith("meta-data/"):
        item = path.removeprefix("meta-data/")
        if item in items:
            return "text/plain", items[item]
        if role is not None and item == f"iam/security-credentials/{role.name}":
            return "text/plain", json.dumps(server.credentials(instance, role.arn), indent=2)
        children = sorted({name.removeprefix(item + "/").split("/")[0]
                           for name in items if name.startswith(item + "/")})
        return ("text/plain", "\n".join(children)) if children else None
    if path == "dynamic/instance-identity/document":
        return "application/json", json.dumps({
            "accountId": backend.account_id, "architecture": instance.architecture,
            "availabilityZone": zone, "imageId": instance.image_id,
            "instanceId": instance.id, "instanceType": instance.instance_type,
            "pendingTime": instance.launch_time.strftime("%Y-%m-%dT%H:%M:%SZ"), "privateIp": instance.private_ip,
            "region": backend.region_name, "version": "2017-09-30",
            "billingProducts": None, "devpayProductCodes": None, "kernelId": None,
            "marketplaceProductCodes": None, "ramdiskId": None}, indent=2)
    return None


class _MetadataHandler(http.server.BaseHTTPRequestHandler):
    server: Metadata
    protocol_version = "HTTP/1.1"

    #: Router hops between the client and the instance: 0 for the instance itself, 1 for a
    #: container on its own network (its forwarder says who asked, PROXY protocol v1).
    hops = 0

    def log_message(self, *args: Any) -> None:  # no access log (tokens in headers)
        return

    def handle(self) -> None:
        if self.rfile.peek(6)[:6] == b"PROXY ":  # type: ignore[attr-defined]
            fields = self.rfile.readline(256).split()
            source = fields[2].decode(errors="replace") if len(fields) > 2 else ""
            self.hops = 0 if source == "169.254.169.254" else 1
        super().handle()

    def _answer(self, status: int, body: str = "", content_type: str = "text/plain",
                headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Server", "EC2ws")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _instance(self) -> Any | None:
        instance = self.server.instance_at(self.client_address[0])
        if instance is None:
            self._answer(403, "Forbidden: not an instance of this local cloud")
        return instance

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        instance = self._instance()
        if instance is None:
            return
        if self.path.split("?")[0] != "/latest/api/token":
            self._answer(404, "Not Found")
            return
        if self.headers.get("X-Forwarded-For"):
            self._answer(403, "Forbidden")  # as AWS: no tokens through a proxy
            return
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= MAX_TOKEN_TTL:
            self._answer(400, "Bad Request")
            return
        if self.hops >= instance.metadata_options.http_put_response_hop_limit:
            # On AWS the answer's IP TTL is the hop limit: it dies on the way to a client
            # further away, which then times out. The same here: no answer.
            self.close_connection = True
            self.connection.settimeout(30)
            try:
                while self.rfile.read(1024):
                    pass
            except OSError:
                pass
            return
        self._answer(200, self.server.new_token(instance.id, int(ttl)),
                     headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        instance = self._instance()
        if instance is None:
            return
        token = self.headers.get("X-aws-ec2-metadata-token")
        if token is not None:
            if not self.server.token_valid(token, instance.id):
                self._answer(401, "Unauthorized")
                return
        elif instance.metadata_options.http_tokens == "required":
            self._answer(401, "Unauthorized")  # IMDSv1 refused
            return
        path = self.path.split("?")[0]
        if not path.startswith("/latest/"):
            self._answer(404, "Not Found")
            return
        found = meta_data(instance, path.removeprefix("/latest/"), self.server)
        if found is None:
            self._answer(404, "Not Found")
            return
        self._answer(200, found[1], found[0])


class InstanceServices:
    """The AWS endpoint and the metadata service for the instances on the twin network."""

    def __init__(self, ca: CertificateAuthority, network: str, workdir: Path,
                 api_port: int) -> None:
        self.ca, self.network, self.workdir, self.api_port = ca, network, workdir, api_port
        self.mount = workdir / "instance"
        self.address = ""
        self.metadata: Metadata | None = None
        self._endpoint: _Endpoint | None = None

    def start(self) -> None:
        self.address = gateway(self.network)
        try:
            self._endpoint = _Endpoint((self.address, API_PORT), self.ca,
                                       self.workdir / "endpoint", ("127.0.0.1", self.api_port))
        except OSError as exc:
            raise docker.DockerError(
                f"cannot serve the AWS endpoint to instances on {self.address}:{API_PORT} "
                f"({exc}; binding port 443 needs root)") from exc
        self.metadata = Metadata((self.address, 0), self.network)
        for server, name in ((self._endpoint, "endpoint"), (self.metadata, "imds")):
            threading.Thread(target=server.serve_forever, name=f"localcloud-{name}",
                             daemon=True).start()
        self.mount.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.ca.cert_path, self.mount / "ca.crt")
        (self.mount / "imds").write_text(f"{self.address}:{self.metadata.server_address[1]}\n")
        print(f"localcloud: twin: instances reach the AWS endpoint at {self.address}:{API_PORT} "
              f"and the metadata service at {self.address}:{self.metadata.server_address[1]}",
              flush=True)

    def run_options(self, instance: Any) -> list[str]:
        """``docker run`` options of an instance container: the twin network, the AWS host
        names of its region on the endpoint, the mount with the CA and the IMDS address."""
        if self.metadata is None:
            return []
        self.metadata.instances[instance.id] = instance
        hosts = service_hosts(instance.ec2_backend.region_name)
        return ["--network", self.network,
                *(arg for host in hosts for arg in ("--add-host", f"{host}:{self.address}")),
                "-v", f"{self.mount}:{MOUNT_POINT}:ro"]

    def forget(self, instance_id: str) -> None:
        if self.metadata is not None:
            self.metadata.instances.pop(instance_id, None)

    def stop(self) -> None:
        for server in (self._endpoint, self.metadata):
            if server is not None:
                server.shutdown()
                server.server_close()
