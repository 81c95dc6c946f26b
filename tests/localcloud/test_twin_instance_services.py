"""Fast checks of the twin's instance services (localcloud/twin/instance_services.py) and of
the instance-side resolver (images/ami/localcloud-imds); the booted instance is in
test_twin_instances.py."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import socket
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from localcloud_helpers import ROOT

from localcloud.twin.instance_services import Metadata, service_hosts


def _imds_script() -> Any:
    path = str(ROOT / "images/ami/localcloud-imds")
    loader = importlib.machinery.SourceFileLoader("localcloud_imds", path)
    spec = importlib.util.spec_from_loader("localcloud_imds", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _query(name: str, qtype: int = 1, ident: int = 0x2A2A) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack(
        "!HH", qtype, 1)


def test_service_hosts_are_the_regions_aws_endpoints_and_the_global_ones() -> None:
    hosts = service_hosts("eu-central-1")
    for expected in ("sts.eu-central-1.amazonaws.com", "sts.amazonaws.com", "iam.amazonaws.com",
                     "secretsmanager.eu-central-1.amazonaws.com", "sqs.eu-central-1.amazonaws.com",
                     "api.ecr.eu-central-1.amazonaws.com", "dynamodb.eu-central-1.amazonaws.com",
                     "logs.eu-central-1.amazonaws.com"):
        assert expected in hosts
    assert all(h.endswith(".amazonaws.com") for h in hosts)
    assert not any(".dkr.ecr." in h for h in hosts)  # the registry is not the API endpoint
    # Other regions' endpoints only where a global service lives there (as the SDK calls it).
    assert "sqs.us-west-2.amazonaws.com" not in hosts
    assert "organizations.us-east-1.amazonaws.com" in hosts


def test_the_resolver_answers_aws_names_of_etc_hosts_and_passes_the_rest() -> None:
    imds = _imds_script()
    hosts = {"sts.eu-central-1.amazonaws.com": socket.inet_aton("172.30.0.1")}
    reply = imds.answer(_query("STS.eu-central-1.amazonaws.com"), hosts)
    assert reply[:2] == b"\x2a\x2a"  # the query's id
    flags, qd, an = struct.unpack("!HHH", reply[2:8])
    assert flags & 0x8000 and flags & 0x000F == 0 and (qd, an) == (1, 1)
    assert reply[-4:] == socket.inet_aton("172.30.0.1")
    aaaa = imds.answer(_query("sts.eu-central-1.amazonaws.com", qtype=28), hosts)
    assert struct.unpack("!HH", aaaa[4:8]) == (1, 0)  # the name exists, no IPv6 address
    assert imds.answer(_query("twin-db.aaaaaaaaaa.eu-central-1.rds.amazonaws.com"), hosts) is None
    assert imds.answer(b"\x00\x01", hosts) is None  # not a query: passed on, not answered


class _OneInstance(Metadata):
    """The metadata service with one instance at 127.0.0.1 (no docker lookup)."""

    def __init__(self, instance: Any) -> None:
        super().__init__(("127.0.0.1", 0), "unused")
        self.instance = instance

    def instance_at(self, address: str) -> Any | None:
        return self.instance if address == "127.0.0.1" else None


@pytest.fixture
def metadata() -> Iterator[tuple[str, Any]]:
    instance = SimpleNamespace(id="i-0123456789abcdef0",
                               metadata_options=SimpleNamespace(http_tokens="required",
                                                                http_put_response_hop_limit=1))
    server = _OneInstance(instance)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


def _code(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_tokens_need_a_ttl_within_aws_bounds(metadata) -> None:
    url, _ = metadata
    token = f"{url}/latest/api/token"
    assert _code(token, "PUT")[0] == 400
    assert _code(token, "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "0"})[0] == 400
    assert _code(token, "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "21601"})[0] == 400
    assert _code(token, "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "x"})[0] == 400
    assert _code(token, "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "60",
                                "X-Forwarded-For": "10.0.0.1"})[0] == 403
    status, value = _code(token, "PUT", {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    assert status == 200 and len(value) >= 40


def test_imds_v1_is_refused_when_tokens_are_required_and_tokens_are_per_instance(
        metadata) -> None:
    url, server = metadata
    assert _code(f"{url}/latest/meta-data/instance-id")[0] == 401
    other = server.new_token("i-other", 60)
    assert _code(f"{url}/latest/meta-data/instance-id",
                 headers={"X-aws-ec2-metadata-token": other})[0] == 401
    expired = server.new_token(server.instance.id, 60)
    server._tokens[expired] = (server.instance.id, 0.0)
    assert _code(f"{url}/latest/meta-data/instance-id",
                 headers={"X-aws-ec2-metadata-token": expired})[0] == 401


def _put_token_via_forwarder(url: str, source: str) -> bytes:
    """A token PUT as the instance's forwarder passes it on: PROXY line, then the request."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.settimeout(2)
        sock.sendall(f"PROXY TCP4 {source} 169.254.169.254 40000 80\r\n".encode()
                     + b"PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
                     b"X-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 0\r\n\r\n")
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


def test_a_token_put_from_beyond_the_hop_limit_gets_no_answer(metadata) -> None:
    url, server = metadata
    assert _put_token_via_forwarder(url, "169.254.169.254").startswith(b"HTTP/1.1 200")
    assert _put_token_via_forwarder(url, "172.17.0.2") == b""  # one hop, limit 1
    server.instance.metadata_options.http_put_response_hop_limit = 2
    assert _put_token_via_forwarder(url, "172.17.0.2").startswith(b"HTTP/1.1 200")
