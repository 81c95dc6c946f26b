"""The registry behind the local cloud's ECR: one container per server.

``autobuy/registry:latest`` (Debian's ``docker-registry``, ``images/registry``, built by
``make images``) serves every ECR repository of the local cloud over TLS on port 443 of
the twin network, where it answers as ``<account>.dkr.ecr.<region>.amazonaws.com`` (one
network alias per region), and on a loopback port of the host (:attr:`Registry.address`).
Its certificate comes from the twin CA and names every region's host, ``localhost`` and
127.0.0.1.

Authentication is basic auth for the user ``AWS`` with the password that
``GetAuthorizationToken`` hands out (``docker login -u AWS -p <password>``, the password
being the part after ``AWS:`` of the decoded token, as with ECR): a bcrypt htpasswd entry
that the registry re-reads when the file changes. A token lives 12 hours like ECR's; the
same one is handed out until less than an hour of it remains, then a new one replaces it
(the old one stops working then: a caller re-asks before ``expiresAt``, as on AWS).
The password is never logged, never on a command line and never in the container's
environment (the htpasswd line is made by ``htpasswd -iB`` reading stdin).
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from localcloud.twin import docker
from localcloud.twin.ca import CertificateAuthority
from localcloud.twin.lifecycle import Held

IMAGE = "autobuy/registry:latest"
USER = "AWS"
TOKEN_SECONDS = 12 * 3600
RENEW_BEFORE_SECONDS = 3600
CERTS_D = Path("/etc/docker/certs.d")
STORAGE = "/var/lib/docker-registry/docker/registry/v2/repositories"
_MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])
_CONFIG = """\
# Written by the local cloud (localcloud/twin/registry.py) for the registry behind ECR.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: :443
  tls:
    certificate: /etc/twin-registry/tls.crt
    key: /etc/twin-registry/tls.key
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: localcloud-ecr
    path: /etc/twin-registry/htpasswd
"""


@dataclass(frozen=True)
class Token:
    password: str
    expires_at: float


@dataclass(frozen=True)
class Image:
    """One manifest the registry holds, with what ``DescribeImages`` reports."""

    repository: str
    digest: str
    tags: tuple[str, ...]
    pushed_at: float
    size: int
    media_type: str
    manifest: str

    def held(self) -> Held:
        return Held(self.digest, self.tags, self.pushed_at)


def host_names(account: str, regions: list[str]) -> list[str]:
    return [f"{account}.dkr.ecr.{region}.amazonaws.com" for region in regions]


class Registry(docker.Service):
    """The registry container of one local cloud server."""

    def __init__(self, ca: CertificateAuthority, workdir: Path, owner: str, network: str,
                 names: list[str], image: str = IMAGE) -> None:
        super().__init__("registry", owner, network, image)
        self.ca = ca
        self.workdir = workdir
        self.names = names
        self.container = f"localcloud-registry-{owner}"
        self.address = ""  # 127.0.0.1:port once started
        self._token: Token | None = None
        self._lock = threading.Lock()
        self._manifests: dict[str, tuple[str, str, int]] = {}  # digest -> (type, body, size)
        self._certs_d: Path | None = None

    # -- lifecycle of the container -------------------------------------------------
    def start(self) -> None:
        self.require_image("LOCALCLOUD_TWIN=on")
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self.ca.issue(self.names + ["localhost"], ["127.0.0.1"]).write(self.workdir, "tls")
        (self.workdir / "config.yml").write_text(_CONFIG)
        self._rotate()
        aliases = [arg for name in self.names for arg in ("--network-alias", name)]
        docker.run(["run", "-d", "--name", self.container,
                    *self.labels(),
                    "--network", self.network, *aliases,
                    "-p", "127.0.0.1::443",
                    "-v", f"{self.workdir}:/etc/twin-registry:ro",
                    "--entrypoint", "docker-registry", self.image,
                    "serve", "/etc/twin-registry/config.yml"])
        self.address = f"127.0.0.1:{docker.host_port(self.container, 443)}"
        self._wait_until_serving()
        self._trust_on_host()

    def stop(self) -> None:
        """Forget the host's trust of the registry (the container goes with the owner's)."""
        if self._certs_d is not None:
            shutil.rmtree(self._certs_d, ignore_errors=True)
            self._certs_d = None

    def _wait_until_serving(self, timeout: float = 60) -> None:
        docker.wait_until_answers(self.container, "the registry",
                                  lambda: self._request("GET", "/v2/"), timeout)

    def _trust_on_host(self) -> None:
        """``docker push`` from the host verifies the registry against
        ``/etc/docker/certs.d/<host:port>/ca.crt``: install it there (root only)."""
        directory = CERTS_D / self.address
        try:
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.ca.cert_path, directory / "ca.crt")
        except OSError as exc:
            print(f"localcloud: twin: cannot trust the registry for the host's docker "
                  f"({exc}); as root: mkdir -p {directory} && cp {self.ca.cert_path} "
                  f"{directory}/ca.crt", file=sys.stderr, flush=True)
            return
        self._certs_d = directory

    # -- tokens ------------------------------------------------------------------------
    def token(self) -> Token:
        """The password ``docker login -u AWS`` accepts now, and when it expires."""
        with self._lock:
            if self._token is None or self._token.expires_at - time.time() < RENEW_BEFORE_SECONDS:
                self._rotate()
            assert self._token is not None
            return self._token

    def _rotate(self) -> None:
        password = secrets.token_urlsafe(32)
        line = docker.run(["run", "--rm", "-i", "--network", "none", "--entrypoint",
                           "htpasswd", self.image, "-niB", USER],
                          stdin=password.encode() + b"\n").stdout.strip()
        if not line.startswith(f"{USER}:$2".encode()):
            raise docker.DockerError("htpasswd did not make a bcrypt entry")
        target = self.workdir / "htpasswd"
        tmp = self.workdir / ".htpasswd.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, line + b"\n")
        finally:
            os.close(fd)
        os.replace(tmp, target)  # the registry re-reads it on its next request
        self._token = Token(password, time.time() + TOKEN_SECONDS)

    # -- the registry's HTTP API ----------------------------------------------------
    def _request(self, method: str, path: str, accept: str = "") -> tuple[int, dict, bytes]:
        context = ssl.create_default_context(cafile=str(self.ca.cert_path))
        request = urllib.request.Request(f"https://{self.address}{path}", method=method)
        if self._token is not None:
            basic = base64.b64encode(f"{USER}:{self._token.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {basic}")
        if accept:
            request.add_header("Accept", accept)
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def _manifest(self, repository: str, digest: str) -> tuple[str, str, int]:
        if digest not in self._manifests:
            status, headers, body = self._request(
                "GET", f"/v2/{repository}/manifests/{digest}", accept=_MANIFEST_TYPES)
            if status != 200:
                raise docker.DockerError(f"registry: GET manifest {repository}@{digest}: {status}")
            parsed = json.loads(body)
            size = len(body) + sum(int(part.get("size", 0)) for part in
                                   [parsed.get("config") or {}, *parsed.get("layers", []),
                                    *parsed.get("manifests", [])])
            media = parsed.get("mediaType") or headers.get("Content-Type", "")
            self._manifests[digest] = (media, body.decode(), size)
        return self._manifests[digest]

    def images(self) -> dict[str, list[Image]]:
        """Every manifest of every repository, with its tags and push time.

        Push time is the modification time of the manifest's revision link in the
        registry's storage (written when the manifest is pushed); the registry's API has
        no push time.
        """
        script = (
            f"cd {STORAGE} 2>/dev/null || exit 0; "
            "find . -path '*/_manifests/revisions/sha256/*/link' -printf 'R %T@ %h\\n'; "
            "find . -path '*/_manifests/tags/*/current/link' | "
            "while read -r f; do printf 'T %s %s\\n' \"$f\" \"$(cat \"$f\")\"; done")
        out = docker.run(["exec", self.container, "sh", "-c", script]).stdout.decode()
        pushed: dict[tuple[str, str], float] = {}
        tags: dict[tuple[str, str], list[str]] = {}
        for line in out.splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "R":
                stamp, _, path = rest.partition(" ")
                repo, _, tail = path[2:].partition("/_manifests/revisions/sha256/")
                pushed[(repo, f"sha256:{tail}")] = float(stamp)
            elif kind == "T":
                path, _, digest = rest.partition(" ")
                repo, _, tail = path[2:].partition("/_manifests/tags/")
                tags.setdefault((repo, digest.strip()), []).append(tail.split("/current/")[0])
        found: dict[str, list[Image]] = {}
        for (repo, digest), stamp in pushed.items():
            media, manifest, size = self._manifest(repo, digest)
            found.setdefault(repo, []).append(Image(
                repo, digest, tuple(sorted(tags.get((repo, digest), []))), stamp, size,
                media, manifest))
        for held in found.values():
            held.sort(key=lambda image: image.pushed_at, reverse=True)
        return found

    def delete(self, repository: str, digest: str) -> None:
        """Delete a manifest (and the tags on it) through the registry's API."""
        status, _, body = self._request("DELETE", f"/v2/{repository}/manifests/{digest}")
        if status not in (202, 404):
            raise docker.DockerError(
                f"registry: DELETE {repository}@{digest}: {status} {body[:200]!r}")
