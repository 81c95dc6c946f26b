"""A twin instance gets what the instance role and the VPC give an EC2 instance on AWS:
credentials of its role, its region, the AWS endpoint under AWS's host names, and the RDS
and ECR host names on the twin network — with nothing of that in its user data.

One instance (``LOCALCLOUD_TWIN=on`` and ``LOCALCLOUD_INSTANCES=containers``) is launched
from a launch template with an instance profile and ``HttpTokens=required``; its user data
installs Debian's AWS CLI and calls ``aws sts get-caller-identity`` with no credentials,
region or endpoint. Needs the Docker engine; the images are built here when missing.
Under ``CI`` nothing skips.
"""
from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from localcloud_helpers import start_server, stop_server
from test_localcloud_boot import BOOT_TIMEOUT
from test_twin import IMAGES

pytestmark = [pytest.mark.slow, pytest.mark.docker]

ROLE = "autobuy-instance-role"
PROFILE = "autobuy-instance-profile"
DB = "twin-db"
SECRET = "twin-instances-secret"
REGISTRY_HOST = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
USER_DATA = """#!/bin/bash
# No credentials, region or endpoint here: the same script runs on a bare Debian 12 AMI.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends awscli
aws sts get-caller-identity --output json > /root/caller.json
# A regional service: the CLI needs the region (from the metadata service, as on EC2).
aws secretsmanager list-secrets --output json > /root/secrets.json
echo "twin user data done"
"""
# Run inside the instance by its own python3: IMDS calls, then the RDS and ECR host names.
IMDS = "http://169.254.169.254/latest"


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def _python(name: str, code: str) -> str:
    """Run ``code`` with the instance's python3; its stdout (fails on a non-zero exit)."""
    result = _docker("exec", name, "python3", "-c", code)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def _status(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> str:
    """Python source printing the HTTP status (and body) of a request, errors included."""
    return (
        "import urllib.request, urllib.error\n"
        f"req = urllib.request.Request({url!r}, method={method!r}, headers={headers or {}!r})\n"
        "try:\n"
        "    r = urllib.request.urlopen(req, timeout=10); print(r.status, r.read().decode())\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n")


class Booted:
    def __init__(self, cloud: Any, instance_id: str, boot_seconds: float, endpoint: str) -> None:
        self.cloud, self.instance_id, self.boot_seconds = cloud, instance_id, boot_seconds
        self.name = f"localcloud-{instance_id}"
        self.db_endpoint = endpoint

    def token(self) -> str:
        out = _python(self.name, _status(f"{IMDS}/api/token", "PUT",
                                         {"X-aws-ec2-metadata-token-ttl-seconds": "60"}))
        status, _, token = out.partition(" ")
        assert status == "200", out
        return token


@pytest.fixture(scope="module")
def booted(tmp_path_factory: pytest.TempPathFactory, localcloud: str,
           ami_image: str, docker_images: Callable[..., None]) -> Iterator[Booted]:
    docker_images(IMAGES)
    state = tmp_path_factory.mktemp("twin_instances")
    url, proc = start_server(state / "localcloud.log", {
        "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_INSTANCES": "containers",
        "LOCALCLOUD_STATE_DIR": str(state), "LOCALCLOUD_RDS_CREATE_SECONDS": "1"})
    try:
        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=url, region_name="eu-central-1")

        iam, ec2, rds = client("iam"), client("ec2"), client("rds")
        client("secretsmanager").create_secret(Name=SECRET, SecretString="{}")
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))
        iam.create_instance_profile(InstanceProfileName=PROFILE)
        iam.add_role_to_instance_profile(InstanceProfileName=PROFILE, RoleName=ROLE)
        rds.create_db_instance(DBInstanceIdentifier=DB, Engine="mysql", DBInstanceClass="db.t3.micro",
                               MasterUsername="admin", MasterUserPassword="not-in-user-data-1",
                               DBName="autobuy", AllocatedStorage=20)
        image = max(ec2.describe_images(Owners=["136693071363"], Filters=[
            {"Name": "name", "Values": ["debian-12-amd64-*"]},
            {"Name": "architecture", "Values": ["x86_64"]}])["Images"],
            key=lambda i: i["CreationDate"])["ImageId"]
        ec2.create_launch_template(LaunchTemplateName="twin-instance", LaunchTemplateData={
            "ImageId": image, "IamInstanceProfile": {"Name": PROFILE},
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
            "UserData": base64.b64encode(USER_DATA.encode()).decode()})
        started = time.monotonic()
        instance_id = ec2.run_instances(
            MinCount=1, MaxCount=1,
            LaunchTemplate={"LaunchTemplateName": "twin-instance"})["Instances"][0]["InstanceId"]
        name = f"localcloud-{instance_id}"
        deadline = time.monotonic() + 60
        while _docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() != "true":
            assert time.monotonic() < deadline, f"container {name} did not start"
            time.sleep(0.3)
        done = _docker("exec", name, "cloud-init", "status", "--wait", timeout=BOOT_TIMEOUT + 300)
        boot_seconds = time.monotonic() - started
        print(f"RunInstances -> user data done (apt-get install awscli included): "
              f"{boot_seconds:.1f} s")
        console = ec2.get_console_output(InstanceId=instance_id).get("Output", "")
        assert done.stdout.strip().endswith("status: done"), console[-3000:]
        db = rds.describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0]
        deadline = time.monotonic() + 120
        while db["DBInstanceStatus"] != "available":
            assert time.monotonic() < deadline, db["DBInstanceStatus"]
            time.sleep(0.5)
            db = rds.describe_db_instances(DBInstanceIdentifier=DB)["DBInstances"][0]
        yield Booted(client, instance_id, boot_seconds, db["Endpoint"]["Address"])
    finally:
        stop_server(proc)


def test_user_data_calls_aws_with_the_instance_role_and_nothing_in_it(booted: Booted) -> None:
    caller = json.loads(_docker("exec", booted.name, "cat", "/root/caller.json").stdout)
    assert caller["Arn"] == (f"arn:aws:sts::123456789012:assumed-role/{ROLE}/"
                             f"{booted.instance_id}")
    secrets_listed = json.loads(_docker("exec", booted.name, "cat", "/root/secrets.json").stdout)
    assert [s["Name"] for s in secrets_listed["SecretList"]] == [SECRET]
    assert "twin user data done" in booted.cloud("ec2").get_console_output(
        InstanceId=booted.instance_id)["Output"]
    # The profile from the launch template is associated, as on AWS.
    associations = booted.cloud("ec2").describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [booted.instance_id]}])
    assert [a["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1]
            for a in associations["IamInstanceProfileAssociations"]] == [PROFILE]


def test_imds_v2_answers_and_v1_is_refused_when_tokens_are_required(booted: Booted) -> None:
    assert _python(booted.name, _status(f"{IMDS}/meta-data/instance-id")) == "401"
    assert _python(booted.name, _status(f"{IMDS}/meta-data/instance-id", headers={
        "X-aws-ec2-metadata-token": "not-a-token"})) == "401"
    assert _python(booted.name, _status(f"{IMDS}/api/token", "PUT")) == "400"  # no TTL
    token = {"X-aws-ec2-metadata-token": booted.token()}
    assert _python(booted.name, _status(f"{IMDS}/meta-data/instance-id", headers=token)) == (
        f"200 {booted.instance_id}")
    assert _python(booted.name, _status(f"{IMDS}/meta-data/placement/region",
                                        headers=token)) == "200 eu-central-1"
    assert _python(booted.name, _status(f"{IMDS}/meta-data/iam/security-credentials/",
                                        headers=token)) == f"200 {ROLE}"
    status, _, body = _python(booted.name, _status(
        f"{IMDS}/meta-data/iam/security-credentials/{ROLE}", headers=token)).partition(" ")
    credentials = json.loads(body)
    assert status == "200" and credentials["Code"] == "Success"
    assert credentials["AccessKeyId"] and credentials["SecretAccessKey"] and credentials["Token"]
    status, _, body = _python(booted.name, _status(
        f"{IMDS}/dynamic/instance-identity/document", headers=token)).partition(" ")
    document = json.loads(body)
    assert (document["instanceId"], document["region"], document["accountId"]) == (
        booted.instance_id, "eu-central-1", "123456789012")


def test_imds_answers_only_instances_of_the_twin(booted: Booted) -> None:
    """From the host (not an instance's address on the twin network) it refuses."""
    address = _docker("exec", booted.name, "cat", "/etc/localcloud/imds").stdout.strip()
    assert address
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(
            f"http://{address}/latest/api/token", method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}), timeout=10)
    assert refused.value.code == 403


def test_the_rds_endpoint_resolves_and_the_database_answers(booted: Booted) -> None:
    greeting = _python(booted.name, (
        "import socket\n"
        f"s = socket.create_connection(({booted.db_endpoint!r}, 3306), timeout=10)\n"
        "print(s.recv(512)[5:60].split(b'\\0')[0].decode())\n"))
    assert "MariaDB" in greeting


def test_the_ecr_registry_answers_with_a_certificate_the_instance_trusts(booted: Booted) -> None:
    # The system trust store (the twin CA installed at boot, not by the user data).
    out = _python(booted.name, _status(f"https://{REGISTRY_HOST}/v2/"))
    assert out == "401"  # the registry asks for the ECR token: TLS was verified first
    # The check is real: a name the registry's certificate does not carry is refused.
    out = _docker("exec", booted.name, "python3", "-c",
                  "import ssl, socket; ssl.create_default_context().wrap_socket("
                  f"socket.create_connection(({REGISTRY_HOST!r}, 443)), "
                  "server_hostname='not-the-registry.example')")
    assert out.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in out.stderr


def _lookup(name: str) -> str:
    """Python source: ask the instance's resolver (169.254.169.253) for the A record of
    ``name`` and print the address (or ``none``), as a nested container's resolver would."""
    return (
        "import socket, struct\n"
        "q = struct.pack('!HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0) + b''.join(\n"
        f"    bytes([len(p)]) + p.encode() for p in {name!r}.split('.')) + b'\\0' + struct.pack('!HH', 1, 1)\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)\n"
        "s.sendto(q, ('169.254.169.253', 53)); r = s.recv(4096)\n"
        "n = struct.unpack('!H', r[6:8])[0]; i = len(q)\n"
        "found = []\n"
        "for _ in range(n):\n"
        "    i += 2 if r[i] >= 192 else r.index(b'\\0', i) + 1 - i\n"
        "    t, _, _, l = struct.unpack('!HHIH', r[i:i + 10]); i += 10\n"
        "    if t == 1: found.append(socket.inet_ntoa(r[i:i + 4]))\n"
        "    i += l\n"
        "print(found[-1] if found else 'none')\n")


def test_the_vpc_resolver_answers_aws_and_twin_names_for_nested_containers(
        booted: Booted) -> None:
    """/etc/resolv.conf points at 169.254.169.253 (not a loopback resolver, which a nested
    dockerd would skip), which answers the AWS service names with the local cloud's endpoint
    and the RDS and ECR names with their containers on the twin network."""
    resolv = _docker("exec", booted.name, "cat", "/etc/resolv.conf").stdout
    assert "nameserver 169.254.169.253" in resolv.splitlines()
    endpoint = _docker("exec", booted.name, "cat", "/etc/localcloud/imds").stdout.split(":")[0]
    assert _python(booted.name, _lookup("secretsmanager.eu-central-1.amazonaws.com")) == endpoint
    for name in (booted.db_endpoint, REGISTRY_HOST):
        address = _python(booted.name, _lookup(name))
        assert address != "none" and address != endpoint, name
        assert _python(booted.name, f"import socket; print(socket.gethostbyname({name!r}))") == (
            address)
    assert _python(booted.name, _lookup("no-such-name.invalid")) == "none"


HOP = ("ip netns add hop && ip link add hop0 type veth peer name hop1"
       " && ip link set hop1 netns hop && ip address add 10.200.0.1/30 dev hop0"
       " && ip link set hop0 up && ip netns exec hop ip address add 10.200.0.2/30 dev hop1"
       " && ip netns exec hop ip link set hop1 up && ip netns exec hop ip link set lo up"
       " && ip netns exec hop ip route add default via 10.200.0.1")
TOKEN_FROM_ONE_HOP = (
    "import urllib.request\n"
    f"req = urllib.request.Request('{IMDS}/api/token', method='PUT',\n"
    "    headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'})\n"
    "try:\n"
    "    print(urllib.request.urlopen(req, timeout=3).status)\n"
    "except OSError as e:\n"
    "    print('no answer', type(e).__name__)\n")


def test_a_token_put_from_one_hop_away_needs_a_hop_limit_of_two(booted: Booted) -> None:
    """A client in a network namespace routed through the instance (as a container on its
    Docker bridge) is one hop away: with the default hop limit 1 its token PUT gets no
    answer, as on AWS; with 2 it gets a token."""
    made = _docker("exec", booted.name, "sh", "-c", HOP)
    assert made.returncode == 0, made.stderr
    ask = ["exec", booted.name, "ip", "netns", "exec", "hop", "python3", "-c", TOKEN_FROM_ONE_HOP]
    assert _docker(*ask).stdout.startswith("no answer")
    assert booted.token()  # the instance itself (0 hops) still gets one
    booted.cloud("ec2").modify_instance_metadata_options(
        InstanceId=booted.instance_id, HttpTokens="required", HttpPutResponseHopLimit=2)
    assert _docker(*ask).stdout.strip() == "200"
