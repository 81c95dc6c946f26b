"""The twin's load balancer (LOCALCLOUD_TWIN=on): HAProxy serves the ALB's listeners.

Traffic goes through the balancer's host ports (free ports, set through
LOCALCLOUD_ALB_HTTP_PORT / LOCALCLOUD_ALB_HTTPS_PORT) to ``autobuy/testapp`` containers
this module starts on the twin network and registers by IP. Needs Docker and the
images, which the fixture builds; under CI (``CI`` set) a missing engine fails.
"""
from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from cryptography import x509

from localcloud.twin import IMAGES as TWIN_IMAGES
from localcloud_helpers import (free_port, issued_certificate, start_server, stop_server,
                               until)
from test_twin import _docker, _json

pytestmark = [pytest.mark.slow, pytest.mark.docker]

IMAGES = TWIN_IMAGES
DOMAIN = "api.twin-alb.test"
REGION = "eu-central-1"


class Cloud:
    def __init__(self, url: str, http_port: int, https_port: int) -> None:
        self.url, self.http_port, self.https_port = url, http_port, https_port
        self.containers: list[str] = []

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=REGION)

    def report(self) -> dict[str, Any]:
        return _json(self.url + "/localcloud/twin")

    def app(self, name: str) -> str:
        """Start a testapp container answering /version with ``name``; its IP."""
        network = self.report()["network"]
        container = f"alb-test-{name}-{network}"
        _docker("rm", "-f", container)
        run = _docker("run", "-d", "--name", container, "--network", network,
                      "-e", f"TESTAPP_VERSION={name}", IMAGES["testapp"])
        assert run.returncode == 0, run.stderr
        self.containers.append(container)
        return _docker("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{network}")'
                       '.IPAddress}}', container).stdout.decode().strip()


def request(port: int, path: str, *, tls: ssl.SSLContext | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request to 127.0.0.1:port with Host DOMAIN; (status, headers, body)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock = tls.wrap_socket(raw, server_hostname=DOMAIN) if tls else raw
    with sock:
        lines = [f"GET {path} HTTP/1.1", f"Host: {DOMAIN}", "Connection: close",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    parsed: dict[str, str] = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        parsed[key.strip().lower()] = value.strip()
    return int(status_line.split()[1]), parsed, body


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, localcloud: str,
          docker_images: Callable[..., None]) -> Iterator[Cloud]:
    docker_images(IMAGES)
    state = tmp_path_factory.mktemp("alb_state")
    http_port, https_port = free_port(), free_port()
    url, proc = start_server(state / "localcloud.log", {
        "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_STATE_DIR": str(state),
        "LOCALCLOUD_ALB_HTTP_PORT": str(http_port), "LOCALCLOUD_ALB_HTTPS_PORT": str(https_port),
        "LOCALCLOUD_TIME_SCALE": "0.01", "LOCALCLOUD_ACM_VALIDATION_SECONDS": "0.5",
        "LOCALCLOUD_ALB_PROVISION_SECONDS": "0.5"})
    running = Cloud(url, http_port, https_port)
    try:
        yield running
    finally:
        for container in running.containers:
            _docker("rm", "-f", container)
        stop_server(proc)
        leftover = _docker("ps", "-aq", "--filter", f"name=localcloud-alb-{proc.pid}")
        assert leftover.stdout.strip() == b"", "the balancer's container outlived the server"


@pytest.fixture(scope="module")
def stack(cloud: Cloud) -> dict[str, Any]:
    """An ALB like playbooks/edge.yml's: HTTP 301 -> HTTPS, HTTPS with an ACM certificate
    (DNS-validated) forwarding to a sticky target group of two testapp containers."""
    ec2, elb, acm, r53 = (cloud.client(s) for s in ("ec2", "elbv2", "acm", "route53"))
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    zone = r53.create_hosted_zone(Name="twin-alb.test", CallerReference="alb")["HostedZone"]
    cert = issued_certificate(acm, r53, zone["Id"], DOMAIN)
    alb = elb.create_load_balancer(Name="twin-alb", Subnets=subnets, Type="application",
                                   Scheme="internet-facing")["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name="twin-alb-tg", Protocol="HTTP", Port=5000, VpcId=vpc, TargetType="ip",
        HealthCheckPath="/health", HealthCheckIntervalSeconds=100, HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2,
        Matcher={"HttpCode": "200"})["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"},
        {"Key": "stickiness.type", "Value": "lb_cookie"},
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "3600"},
        {"Key": "deregistration_delay.timeout_seconds", "Value": "600"}])
    until(lambda: elb.describe_load_balancers(LoadBalancerArns=[alb["LoadBalancerArn"]])
           ["LoadBalancers"][0]["State"]["Code"] == "active", 30, "the ALB to be active")
    elb.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "redirect", "RedirectConfig": {
                            "Protocol": "HTTPS", "Port": "443", "Host": "#{host}",
                            "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}}])
    https = elb.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", Certificates=[{"CertificateArn": cert}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]
    ips = {name: cloud.app(name) for name in ("a", "b")}
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 5000}
                                                     for ip in ips.values()])
    return {"elb": elb, "acm": acm, "tg": tg, "cert": cert, "listener": https["ListenerArn"],
            "ips": ips}


def _context(cloud: Cloud, minimum: ssl.TLSVersion, maximum: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cloud.report()["ca_cert"])
    context.minimum_version, context.maximum_version = minimum, maximum
    return context


def _states(stack: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    found = stack["elb"].describe_target_health(TargetGroupArn=stack["tg"])
    return {d["Target"]["Id"]: (d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
            for d in found["TargetHealthDescriptions"]}


def _healthy(stack: dict[str, Any], ips: list[str]) -> None:
    until(lambda: all(_states(stack).get(ip, ("",))[0] == "healthy" for ip in ips), 60,
           f"{ips} to be healthy")


def _version(cloud: Cloud, tls: ssl.SSLContext, cookie: str = "") -> tuple[str, str]:
    status, headers, body = request(cloud.https_port, "/version", tls=tls,
                                    headers={"Cookie": cookie} if cookie else None)
    assert status == 200, body
    return json.loads(body)["version"], headers.get("set-cookie", "")


def test_new_targets_start_initial_then_turn_healthy(cloud: Cloud, stack: dict[str, Any]) -> None:
    first = _states(stack)
    assert set(first) == set(stack["ips"].values())
    # healthy only after HealthyThresholdCount (2) checks of >= 1 s each
    assert {state for state, _ in first.values()} <= {"initial", "healthy"}
    assert ("initial", "Elb.RegistrationInProgress") in first.values()
    _healthy(stack, list(stack["ips"].values()))
    report = cloud.report()["load_balancer"]
    assert report["https"] == f"127.0.0.1:{cloud.https_port}"
    assert report["served"]["name"] == "twin-alb"


def test_http_listener_redirects_to_https_with_301(cloud: Cloud, stack: dict[str, Any]) -> None:
    status, headers, _ = request(cloud.http_port, "/items?page=2")
    assert status == 301
    assert headers["location"] == f"https://{DOMAIN}/items?page=2"


def test_acm_certificate_is_signed_by_the_twin_ca_and_served(
        cloud: Cloud, stack: dict[str, Any]) -> None:
    got = stack["acm"].get_certificate(CertificateArn=stack["cert"])
    ca = open(cloud.report()["ca_cert"]).read()
    assert got["CertificateChain"].strip() == ca.strip()
    cert = x509.load_pem_x509_certificate(got["Certificate"].encode())
    assert DOMAIN in cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    _healthy(stack, list(stack["ips"].values()))
    tls = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    status, _, body = request(cloud.https_port, "/health", tls=tls)
    assert status == 200
    assert json.loads(body)["status"] == "ok"


def test_tls_versions_follow_the_listener_policy(cloud: Cloud, stack: dict[str, Any]) -> None:
    _healthy(stack, list(stack["ips"].values()))
    tls12 = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    tls13 = _context(cloud, ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)
    assert request(cloud.https_port, "/health", tls=tls12)[0] == 200
    assert request(cloud.https_port, "/health", tls=tls13)[0] == 200
    elb = stack["elb"]
    elb.modify_listener(ListenerArn=stack["listener"],
                        SslPolicy="ELBSecurityPolicy-TLS13-1-3-2021-06")
    try:
        with pytest.raises(ssl.SSLError):
            request(cloud.https_port, "/health", tls=tls12)
        assert request(cloud.https_port, "/health", tls=tls13)[0] == 200
    finally:
        elb.modify_listener(ListenerArn=stack["listener"],
                            SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")
    assert request(cloud.https_port, "/health", tls=tls12)[0] == 200


def test_stickiness_cookie_keeps_a_client_on_one_target(
        cloud: Cloud, stack: dict[str, Any]) -> None:
    _healthy(stack, list(stack["ips"].values()))
    tls = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    unstuck = {_version(cloud, tls)[0] for _ in range(6)}
    assert unstuck == {"a", "b"}, "without the cookie both targets serve"
    version, set_cookie = _version(cloud, tls)
    assert set_cookie.startswith("AWSALB=")
    assert "Max-Age=3600" in set_cookie
    cookie = set_cookie.split(";")[0]
    assert {_version(cloud, tls, cookie)[0] for _ in range(8)} == {version}


def test_failing_target_is_unhealthy_with_a_reason_and_out_of_rotation(
        cloud: Cloud, stack: dict[str, Any]) -> None:
    _healthy(stack, list(stack["ips"].values()))
    container_b = next(c for c in cloud.containers if "-b-" in c)
    assert _docker("pause", container_b).returncode == 0
    try:
        state = until(lambda: _states(stack)[stack["ips"]["b"]][0] == "unhealthy"
                       and _states(stack)[stack["ips"]["b"]], 60, "b to be unhealthy")
        assert state[1] in ("Target.Timeout", "Target.FailedHealthChecks")
        tls = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
        assert {_version(cloud, tls)[0] for _ in range(6)} == {"a"}
    finally:
        _docker("unpause", container_b)
    _healthy(stack, list(stack["ips"].values()))


def test_deregistered_target_drains_then_leaves(cloud: Cloud, stack: dict[str, Any]) -> None:
    _healthy(stack, list(stack["ips"].values()))
    elb, ip_a = stack["elb"], stack["ips"]["a"]
    elb.deregister_targets(TargetGroupArn=stack["tg"], Targets=[{"Id": ip_a, "Port": 5000}])
    started = time.monotonic()
    assert _states(stack)[ip_a] == ("draining", "Target.DeregistrationInProgress")
    tls = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    assert {_version(cloud, tls)[0] for _ in range(6)} == {"b"}, "no new requests to a"
    until(lambda: ip_a not in _states(stack), 30, "a to leave after the delay")
    # 600 s deregistration delay at LOCALCLOUD_TIME_SCALE 0.01: 6 s
    assert time.monotonic() - started >= 5.5
    elb.register_targets(TargetGroupArn=stack["tg"], Targets=[{"Id": ip_a, "Port": 5000}])
    _healthy(stack, list(stack["ips"].values()))


def _headers(cloud: Cloud, tls: ssl.SSLContext) -> dict[str, str]:
    status, _, body = request(cloud.https_port, "/headers", tls=tls,
                              headers={"X_Under_Score": "1", "X-Plain": "2"})
    assert status == 200, body
    return {k.lower(): v for k, v in json.loads(body).items()}


def test_invalid_header_fields_are_dropped_when_the_attribute_says_so(
        cloud: Cloud, stack: dict[str, Any]) -> None:
    _healthy(stack, list(stack["ips"].values()))
    tls = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    passed = _headers(cloud, tls)
    assert passed["x_under_score"] == "1" and passed["x-plain"] == "2"
    elb = stack["elb"]
    alb = elb.describe_load_balancers(Names=["twin-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
    attribute = "routing.http.drop_invalid_header_fields.enabled"
    elb.modify_load_balancer_attributes(LoadBalancerArn=alb, Attributes=[
        {"Key": attribute, "Value": "true"}])
    try:
        dropped = _headers(cloud, tls)
        assert "x_under_score" not in dropped
        assert dropped["x-plain"] == "2"
    finally:
        elb.modify_load_balancer_attributes(LoadBalancerArn=alb, Attributes=[
            {"Key": attribute, "Value": "false"}])


def test_rules_route_by_host_and_path_to_an_instance_target(
        cloud: Cloud, stack: dict[str, Any]) -> None:
    """An instance target is reached at its container's address on the twin network
    (the ``localcloud:container`` tag), not at moto's private IP."""
    ec2, elb = cloud.client("ec2"), stack["elb"]
    cloud.app("c")
    container = next(c for c in cloud.containers if "-c-" in c)
    vpc = elb.describe_target_groups(TargetGroupArns=[stack["tg"]])["TargetGroups"][0]["VpcId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    ec2.create_tags(Resources=[instance["InstanceId"]],
                    Tags=[{"Key": "localcloud:container", "Value": container}])
    tg = elb.create_target_group(
        Name="twin-alb-instances", Protocol="HTTP", Port=5000, VpcId=vpc,
        TargetType="instance", HealthCheckPath="/health", HealthCheckIntervalSeconds=100,
        HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": instance["InstanceId"]}])
    rule = elb.create_rule(ListenerArn=stack["listener"], Priority=10, Conditions=[
        {"Field": "host-header", "Values": ["*.twin-alb.test"]},
        {"Field": "path-pattern", "Values": ["/vers?on*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": tg}])["Rules"][0]["RuleArn"]
    try:
        until(lambda: elb.describe_target_health(TargetGroupArn=tg)
               ["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy", 60,
               "the instance target to be healthy")
        _healthy(stack, list(stack["ips"].values()))
        tls = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
        assert {_version(cloud, tls)[0] for _ in range(4)} == {"c"}
        status, _, body = request(cloud.https_port, "/health", tls=tls)
        assert status == 200 and json.loads(body)["status"] == "ok"
        elb.modify_target_group(TargetGroupArn=tg, HealthCheckPath="/missing")
        health = until(lambda: [d["TargetHealth"] for d in elb.describe_target_health(
            TargetGroupArn=tg)["TargetHealthDescriptions"] if d["TargetHealth"]["State"]
            == "unhealthy"], 60, "the instance target to fail its /missing check")[0]
        assert health["Reason"] == "Target.ResponseCodeMismatch"
        assert health["Description"] == "Health checks failed with these codes: [404]"
        elb.modify_target_group(TargetGroupArn=tg, Matcher={"HttpCode": "404"})
        until(lambda: elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
               [0]["TargetHealth"]["State"] == "healthy", 60, "404 to count as healthy")
    finally:
        elb.delete_rule(RuleArn=rule)
    assert {_version(cloud, tls)[0] for _ in range(6)} <= {"a", "b"}
    assert elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0][
        "TargetHealth"]["State"] == "unused", "no listener uses the group any more"


def test_a_busy_host_port_is_reported_with_the_setting_to_change(
        tmp_path_factory: pytest.TempPathFactory, localcloud: str,
        docker_images: Callable[..., None]) -> None:
    docker_images(IMAGES)
    state = tmp_path_factory.mktemp("alb_busy")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        url, proc = start_server(state / "localcloud.log", {
            "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_STATE_DIR": str(state),
            "LOCALCLOUD_ALB_HTTP_PORT": str(busy.getsockname()[1]),
            "LOCALCLOUD_ALB_HTTPS_PORT": str(free_port()),
            "LOCALCLOUD_ALB_PROVISION_SECONDS": "0"})
        try:
            cloud = Cloud(url, busy.getsockname()[1], 0)
            ec2, elb = cloud.client("ec2"), cloud.client("elbv2")
            vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
            subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24",
                                         AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
                       for i, az in enumerate("ab")]
            alb = elb.create_load_balancer(Name="busy", Subnets=subnets)["LoadBalancers"][0]
            elb.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
                                    "StatusCode": "200", "ContentType": "text/plain",
                                    "MessageBody": "ok"}}])
            errors = cloud.report()["load_balancer"]["errors"]
            assert any("LOCALCLOUD_ALB_HTTP_PORT" in e for e in errors), errors
        finally:
            stop_server(proc)


def test_fixed_response_rule(cloud: Cloud, stack: dict[str, Any]) -> None:
    elb = stack["elb"]
    rule = elb.create_rule(ListenerArn=stack["listener"], Priority=20, Conditions=[
        {"Field": "path-pattern", "Values": ["/teapot"]}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "418", "ContentType": "text/plain",
            "MessageBody": "short and \"stout\" $HOME"}}])["Rules"][0]["RuleArn"]
    tls = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    try:
        status, headers, body = request(cloud.https_port, "/teapot", tls=tls)
        assert (status, headers["content-type"], body) == (
            418, "text/plain", b'short and "stout" $HOME')
    finally:
        elb.delete_rule(RuleArn=rule)
    assert request(cloud.https_port, "/teapot", tls=tls)[0] == 404  # the app's answer


def test_a_target_that_refuses_connections_gets_502_at_once_and_no_target_503(
        cloud: Cloud, stack: dict[str, Any]) -> None:
    """As an ALB: a target whose port refuses the connection (here: its health check port
    answers, its traffic port has nothing behind it) is answered 502 without retries; a
    target group with no registered target is answered 503."""
    elb = stack["elb"]
    vpc = elb.describe_target_groups(TargetGroupArns=[stack["tg"]])["TargetGroups"][0]["VpcId"]
    refused = elb.create_target_group(
        Name="twin-alb-refused", Protocol="HTTP", Port=5001, VpcId=vpc, TargetType="ip",
        HealthCheckPort="5000", HealthCheckPath="/health", HealthCheckIntervalSeconds=100,
        HealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    empty = elb.create_target_group(
        Name="twin-alb-empty", Protocol="HTTP", Port=5000, VpcId=vpc,
        TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=refused, Targets=[{"Id": stack["ips"]["a"], "Port": 5001}])
    rules = [elb.create_rule(ListenerArn=stack["listener"], Priority=priority, Conditions=[
        {"Field": "path-pattern", "Values": [path]}],
        Actions=[{"Type": "forward", "TargetGroupArn": group}])["Rules"][0]["RuleArn"]
        for priority, path, group in ((30, "/refused", refused), (31, "/empty", empty))]
    tls = _context(cloud, ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    try:
        until(lambda: elb.describe_target_health(TargetGroupArn=refused)
               ["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy", 60,
               "the target to pass its checks on the health check port")
        started = time.monotonic()
        assert request(cloud.https_port, "/refused", tls=tls)[0] == 502
        assert time.monotonic() - started < 0.5, "answered without HAProxy's connect retries"
        assert request(cloud.https_port, "/empty", tls=tls)[0] == 503
    finally:
        for rule in rules:
            elb.delete_rule(RuleArn=rule)
        for group in (refused, empty):
            elb.delete_target_group(TargetGroupArn=group)
