"""The twin's CloudFront edge (localcloud/twin/edge.py): the distribution served over HTTPS.

A local cloud with the twin on, on free ports, and the frontend tier's shape built with
boto3: a private bucket with the site's objects (content types and caching headers as the
playbook uploads them), the SPA routing function of playbooks/files/spa_routing.js
(published), a response headers policy, and a distribution whose ``/health`` and
``/headers`` behaviours go to ``api.<domain>``, an alias record of an ALB whose HTTPS
listener forwards to ``autobuy/testapp`` containers (``/headers`` echoes what reached it).
Every request is real TLS verified with the twin's CA, to 127.0.0.1 under the site's name.
"""
from __future__ import annotations

import gzip
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from localcloud.twin import IMAGES as TWIN_IMAGES
from localcloud_helpers import (free_port, issued_certificate, start_server, stop_server,
                               until)
from test_twin import _docker, _json

pytestmark = [pytest.mark.slow, pytest.mark.docker]

ROOT = Path(__file__).resolve().parents[2]
IMAGES = TWIN_IMAGES
ZONE = "edge-twin.test"
SITE = f"www.{ZONE}"
API = f"api.{ZONE}"
REGION = "eu-central-1"
BUCKET = "edge-twin-site"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CSP = "default-src 'self'; script-src 'self'; frame-ancestors 'none'"
INDEX = b"<!doctype html><html lang=en><title>AutoBuy Guard</title>" + b"<p>app</p>" * 300
SCRIPT = b"export const x = 1;\n" * 400  # > 1,000 bytes: compressible


class Cloud:
    def __init__(self, url: str, web_port: int) -> None:
        self.url, self.web_port = url, web_port
        self.containers: list[str] = []

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=region)

    def report(self) -> dict[str, Any]:
        return _json(self.url + "/localcloud/twin")


def get(cloud: Cloud, path: str, *, method: str = "GET", host: str = SITE,
        headers: dict[str, str] | None = None, body: bytes = b"",
        tls: ssl.SSLContext | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP/1.1 request to the edge over TLS for ``host`` (verified with the twin's CA)."""
    context = tls or ssl.create_default_context(cafile=cloud.report()["ca_cert"])
    raw = socket.create_connection(("127.0.0.1", cloud.web_port), timeout=30)
    with context.wrap_socket(raw, server_hostname=host) as sock:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    parsed = [(k.strip().lower(), v.strip()) for k, _, v in
              (line.partition(":") for line in header_lines)]
    return int(status_line.split()[1]), parsed, payload


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k == name), None)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, localcloud: str,
          docker_images: Callable[..., None]) -> Iterator[Cloud]:
    docker_images(IMAGES)
    state = tmp_path_factory.mktemp("edge_state")
    web_port = free_port()
    url, proc = start_server(state / "localcloud.log", {
        "LOCALCLOUD_TWIN": "on", "LOCALCLOUD_STATE_DIR": str(state), "LOCALCLOUD_DEMO_SHOP": "off",
        "LOCALCLOUD_ALB_HTTP_PORT": str(free_port()), "LOCALCLOUD_ALB_HTTPS_PORT": str(free_port()),
        "LOCALCLOUD_WEB_HTTPS_PORT": str(web_port),  # a port of its own, given
        "LOCALCLOUD_TIME_SCALE": "0.01", "LOCALCLOUD_ACM_VALIDATION_SECONDS": "0.5",
        "LOCALCLOUD_ALB_PROVISION_SECONDS": "0.5"})
    running = Cloud(url, web_port)
    try:
        yield running
    finally:
        for container in running.containers:
            _docker("rm", "-f", container)
        stop_server(proc)


def _api(cloud: Cloud) -> None:
    """An ALB for api.<zone> (HTTPS, twin-CA certificate) forwarding, sticky, to a testapp."""
    ec2, elb, acm, r53 = (cloud.client(s) for s in ("ec2", "elbv2", "acm", "route53"))
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    zone = r53.create_hosted_zone(Name=ZONE, CallerReference="edge")["HostedZone"]["Id"]
    cert = issued_certificate(acm, r53, zone, API)
    alb = elb.create_load_balancer(Name="edge-alb", Subnets=subnets, Type="application",
                                   Scheme="internet-facing")["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name="edge-tg", Protocol="HTTP", Port=5000, VpcId=vpc, TargetType="ip",
        HealthCheckPath="/health", HealthCheckIntervalSeconds=100, HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
        {"Key": "stickiness.enabled", "Value": "true"},
        {"Key": "stickiness.type", "Value": "lb_cookie"}])
    until(lambda: elb.describe_load_balancers(LoadBalancerArns=[alb["LoadBalancerArn"]])
           ["LoadBalancers"][0]["State"]["Code"] == "active", 30, "the ALB to be active")
    elb.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                        Certificates=[{"CertificateArn": cert}],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    network = cloud.report()["network"]
    container = f"edge-test-api-{network}"
    _docker("rm", "-f", container)
    run = _docker("run", "-d", "--name", container, "--network", network, IMAGES["testapp"])
    assert run.returncode == 0, run.stderr
    cloud.containers.append(container)
    ip = _docker("inspect", "-f", f'{{{{(index .NetworkSettings.Networks "{network}")'
                 '.IPAddress}}', container).stdout.decode().strip()
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": ip, "Port": 5000}])
    until(lambda: elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]
          ["TargetHealth"]["State"] == "healthy", 60, "the API target to be healthy")
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": API, "Type": "A", "AliasTarget": {
                "HostedZoneId": alb["CanonicalHostedZoneId"], "DNSName": alb["DNSName"],
                "EvaluateTargetHealth": False}}}]})


@pytest.fixture(scope="module")
def site(cloud: Cloud) -> dict[str, Any]:
    """The frontend tier's shape (playbooks/frontend.yml), made with boto3."""
    _api(cloud)
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=INDEX,
                  ContentType="text/html; charset=utf-8", CacheControl="no-cache")
    s3.put_object(Bucket=BUCKET, Key="assets/index-abc123.js", Body=SCRIPT,
                  ContentType="text/javascript",
                  CacheControl="public, max-age=31536000, immutable")
    s3.put_object(Bucket=BUCKET, Key="favicon.svg", Body=b"<svg/>", ContentType="image/svg+xml",
                  CacheControl="no-cache")
    cf = cloud.client("cloudfront", "us-east-1")
    code = (ROOT / "playbooks" / "files" / "spa_routing.js").read_bytes()
    created = cf.create_function(Name="edge-spa", FunctionCode=code, FunctionConfig={
        "Comment": "spa", "Runtime": "cloudfront-js-2.0"})
    cf.publish_function(Name="edge-spa", IfMatch=created["ETag"])
    function_arn = created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    policy_config = {
        "Name": "edge-headers", "SecurityHeadersConfig": {
            "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": CSP},
            "StrictTransportSecurity": {"Override": True, "IncludeSubdomains": True,
                                        "Preload": False, "AccessControlMaxAgeSec": 63072000},
            "ContentTypeOptions": {"Override": True},
            "ReferrerPolicy": {"Override": True,
                               "ReferrerPolicy": "strict-origin-when-cross-origin"},
            "FrameOptions": {"Override": True, "FrameOption": "DENY"}}}
    policy = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=policy_config)
    policy_id = policy["ResponseHeadersPolicy"]["Id"]
    api_behaviour = {
        "TargetOriginId": "api", "ViewerProtocolPolicy": "https-only", "Compress": True,
        "AllowedMethods": {"Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "POST",
                                                    "PATCH", "DELETE"],
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
        "ResponseHeadersPolicyId": policy_id}
    config = {
        "CallerReference": "edge-twin", "Comment": "site", "Enabled": True,
        "Aliases": {"Quantity": 2, "Items": [ZONE, SITE]}, "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 2, "Items": [
            {"Id": "site", "DomainName": f"{BUCKET}.s3.{REGION}.amazonaws.com",
             "S3OriginConfig": {"OriginAccessIdentity": ""}},
            {"Id": "api", "DomainName": API, "CustomOriginConfig": {
                "HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only",
                "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
            "Compress": True, "CachePolicyId": CACHING_OPTIMIZED,
            "ResponseHeadersPolicyId": policy_id,
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "FunctionAssociations": {"Quantity": 1, "Items": [
                {"FunctionARN": function_arn, "EventType": "viewer-request"}]}},
        "CacheBehaviors": {"Quantity": 2, "Items": [
            {**api_behaviour, "PathPattern": "/health"},
            {**api_behaviour, "PathPattern": "/headers"}]},
    }
    distribution = cf.create_distribution(DistributionConfig=config)["Distribution"]
    return {"cf": cf, "s3": s3, "id": distribution["Id"], "policy": policy_id,
            "policy_etag": policy["ETag"], "policy_config": policy_config, "config": config}


SECURITY = {"content-security-policy": CSP,
            "strict-transport-security": "max-age=63072000; includeSubDomains",
            "x-content-type-options": "nosniff", "x-frame-options": "DENY",
            "referrer-policy": "strict-origin-when-cross-origin"}


def _security(headers: list[tuple[str, str]]) -> dict[str, str | None]:
    return {name: header(headers, name) for name in SECURITY}


def test_objects_are_served_as_stored_with_their_caching_headers(cloud: Cloud, site: dict) -> None:
    status, headers, body = get(cloud, "/")
    assert status == 200 and body == INDEX
    assert header(headers, "content-type") == "text/html; charset=utf-8"
    assert header(headers, "cache-control") == "no-cache"
    etag = header(headers, "etag")
    assert etag and etag.strip('"') == site["s3"].head_object(
        Bucket=BUCKET, Key="index.html")["ETag"].strip('"')
    assert _security(headers) == SECURITY
    status, headers, body = get(cloud, "/assets/index-abc123.js")
    assert status == 200 and body == SCRIPT
    assert header(headers, "content-type") == "text/javascript"
    assert header(headers, "cache-control") == "public, max-age=31536000, immutable"
    assert header(headers, "content-encoding") is None  # the viewer did not ask for it
    # revalidation: 304 without a body for the ETag the viewer holds
    status, headers, body = get(cloud, "/index.html", headers={"If-None-Match": etag})
    assert status == 304 and body == b"" and header(headers, "etag") == etag
    status, _headers, body = get(cloud, "/favicon.svg")
    assert status == 200 and body == b"<svg/>"
    # a file that is not in the bucket: S3's AccessDenied (the edge may not list it)
    status, headers, body = get(cloud, "/missing.png")
    assert status == 403 and b"AccessDenied" in body
    assert _security(headers) == SECURITY


def test_spa_routes_are_answered_by_index_html(cloud: Cloud, site: dict) -> None:
    for route in ("/items/42", "/account", "/items/42/"):
        status, headers, body = get(cloud, route)
        assert (status, body) == (200, INDEX), route
        assert header(headers, "cache-control") == "no-cache"
    # the apex alias and the loopback name a person opens serve the same distribution
    assert get(cloud, "/items/1", host=ZONE)[2] == INDEX
    assert get(cloud, "/items/1", host="localhost")[2] == INDEX


def test_compression_when_the_viewer_accepts_gzip(cloud: Cloud, site: dict) -> None:
    status, headers, body = get(cloud, "/assets/index-abc123.js",
                                headers={"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and header(headers, "content-encoding") == "gzip"
    assert gzip.decompress(body) == SCRIPT and len(body) < len(SCRIPT) / 5
    assert header(headers, "vary") == "Accept-Encoding"
    # below CloudFront's 1,000 bytes: as stored
    status, headers, body = get(cloud, "/favicon.svg", headers={"Accept-Encoding": "gzip"})
    assert header(headers, "content-encoding") is None and body == b"<svg/>"


def test_api_behaviours_are_proxied_with_cookies_and_security_headers(cloud: Cloud,
                                                                      site: dict) -> None:
    status, headers, body = get(cloud, "/health")
    assert status == 200 and set(json.loads(body)) == {"status", "timestamp", "uptime"}, body
    assert _security(headers) == SECURITY
    assert header(headers, "cache-control") is None  # nothing of the bucket's
    # the balancer's stickiness cookie comes back through the edge, and goes out again
    status, headers, body = get(cloud, "/headers", headers={"Authorization": "Bearer t0k3n"})
    assert status == 200
    cookie = header(headers, "set-cookie")
    assert cookie and cookie.startswith("AWSALB="), headers
    seen = {k.lower(): v for k, v in json.loads(body).items()}  # HAProxy lowercases names
    assert seen.get("authorization") == "Bearer t0k3n" and seen["host"] == API, seen
    status, headers, body = get(cloud, "/headers",
                                headers={"Cookie": f"{cookie.split(';')[0]}; session=abc"})
    seen = {k.lower(): v for k, v in json.loads(body).items()}
    # the balancer took its own cookie (it sets no new one) and passed the app's on
    assert status == 200 and seen["cookie"] == "session=abc"
    assert header(headers, "set-cookie") is None
    assert _security(headers) == SECURITY
    # a method the static behaviour does not allow
    status, _headers, body = get(cloud, "/index.html", method="POST", body=b"{}")
    assert status == 403 and b"POST" in body


def test_a_slow_api_call_does_not_hold_static_files(cloud: Cloud, site: dict) -> None:
    """A viewer that opens a connection and sends nothing holds one thread, not the edge."""
    context = ssl.create_default_context(cafile=cloud.report()["ca_cert"])
    idle = [context.wrap_socket(socket.create_connection(("127.0.0.1", cloud.web_port)),
                                server_hostname=SITE) for _ in range(4)]
    try:
        started = time.monotonic()
        assert get(cloud, "/index.html")[0] == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in idle:
            sock.close()


def test_changes_are_served_without_a_restart(cloud: Cloud, site: dict) -> None:
    s3, cf = site["s3"], site["cf"]
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"<!doctype html><p>v2</p>",
                  ContentType="text/html; charset=utf-8", CacheControl="no-cache")
    assert get(cloud, "/items/7")[2] == b"<!doctype html><p>v2</p>"
    changed = cf.update_response_headers_policy(
        Id=site["policy"], IfMatch=site["policy_etag"], ResponseHeadersPolicyConfig={
            "Name": "edge-headers", "SecurityHeadersConfig": {
                "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": CSP},
                "ReferrerPolicy": {"Override": True, "ReferrerPolicy": "no-referrer"}}})
    site["policy_etag"] = changed["ETag"]
    _status, headers, _body = get(cloud, "/health")
    assert header(headers, "referrer-policy") == "no-referrer"
    assert header(headers, "strict-transport-security") is None
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=INDEX,
                  ContentType="text/html; charset=utf-8", CacheControl="no-cache")
    site["policy_etag"] = cf.update_response_headers_policy(
        Id=site["policy"], IfMatch=site["policy_etag"],
        ResponseHeadersPolicyConfig=site["policy_config"])["ETag"]
    assert _security(get(cloud, "/health")[1]) == SECURITY


def test_disabled_distribution_and_unknown_names(cloud: Cloud, site: dict) -> None:
    status, _headers, body = get(cloud, "/", host=f"other.{ZONE}",
                                 tls=_unverified_name(cloud))
    assert status == 403 and b"other.edge-twin.test" in body
    cf = site["cf"]
    current = cf.get_distribution_config(Id=site["id"])
    config = current["DistributionConfig"]
    config["Enabled"] = False
    cf.update_distribution(Id=site["id"], IfMatch=current["ETag"], DistributionConfig=config)
    try:
        status, _headers, body = get(cloud, "/")
        assert status == 503 and b"disabled" in body
        status, _headers, body = get(cloud, "/", host="localhost")
        assert status == 503 and b"no enabled distribution" in body
    finally:
        current = cf.get_distribution_config(Id=site["id"])
        config = current["DistributionConfig"]
        config["Enabled"] = True
        cf.update_distribution(Id=site["id"], IfMatch=current["ETag"], DistributionConfig=config)
    assert get(cloud, "/")[0] == 200


def _unverified_name(cloud: Cloud) -> ssl.SSLContext:
    """Verified chain, but a name the certificate does not carry (the edge answers 403)."""
    context = ssl.create_default_context(cafile=cloud.report()["ca_cert"])
    context.check_hostname = False
    return context


def test_certificate_names_and_report(cloud: Cloud, site: dict) -> None:
    until(lambda: SITE in cloud.report()["web_edge"]["names"], 20, "the aliases' certificate")
    report = cloud.report()["web_edge"]
    assert report["https"] == f"127.0.0.1:{cloud.web_port}"
    assert {ZONE, SITE, "localhost"} <= set(report["names"])
    assert [ZONE, SITE] in [d["aliases"] for d in report["distributions"]]
    for name in (ZONE, SITE, "localhost", "127.0.0.1"):
        assert get(cloud, "/index.html", host=name)[0] == 200, name


def _distribution_with_function(cloud: Cloud, site: dict, alias: str, name: str,
                                code: bytes) -> None:
    cf = site["cf"]
    created = cf.create_function(Name=name, FunctionCode=code, FunctionConfig={
        "Comment": name, "Runtime": "cloudfront-js-2.0"})
    cf.publish_function(Name=name, IfMatch=created["ETag"])
    config = json.loads(json.dumps(site["config"]))
    config.update(CallerReference=name, Aliases={"Quantity": 1, "Items": [alias]})
    config.pop("CacheBehaviors")
    config["DefaultCacheBehavior"]["FunctionAssociations"]["Items"][0]["FunctionARN"] = \
        created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    cf.create_distribution(DistributionConfig=config)


def test_function_answers_and_refusals(cloud: Cloud, site: dict) -> None:
    """A function may answer itself (a redirect); one that imports a module is refused, saying so."""
    redirect = (b"function handler(event) {\n  if (event.request.uri === '/old') {\n"
                b"    return {statusCode: 301, statusDescription: 'Moved Permanently',\n"
                b"            headers: {location: {value: '/items/' + event.request.querystring.id.value}}};\n"
                b"  }\n  return event.request;\n}\n")
    _distribution_with_function(cloud, site, f"go.{ZONE}", "edge-redirect", redirect)
    status, headers, body = get(cloud, "/old?id=42", host=f"go.{ZONE}")
    assert (status, header(headers, "location")) == (301, "/items/42"), body
    assert _security(headers) == SECURITY  # the behaviour's policy, on the function's answer
    assert get(cloud, "/index.html", host=f"go.{ZONE}")[2] == INDEX
    module = b"var crypto = require('crypto');\nfunction handler(event) { return event.request; }\n"
    _distribution_with_function(cloud, site, f"mod.{ZONE}", "edge-module", module)
    status, _headers, body = get(cloud, "/", host=f"mod.{ZONE}")
    assert status == 502 and b"imports a module" in body
