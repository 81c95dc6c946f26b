"""playbooks/frontend.yml: the web app in a private bucket behind CloudFront (origin access
control, us-east-1 certificate, SPA routing function, security headers, /v1/* and /health to
the ALB), alias records, the upload with its content types and caching, an invalidation
only when index.html changed; a second run changes nothing; teardown removes it all."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from provision_helpers import WEB_INDEX, client, private_cloud, run_playbook, web_build  # type: ignore[import-not-found]

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

DOMAIN = "autobuyguard.store"
BUCKET = "autobuyguard-store-web"
REF = "autobuyguard-store-web"
def _run(url: str, dist: Path, *args: str):  # noqa: ANN202
    return run_playbook("playbooks/frontend.yml", url, *args, extra={"autobuy_web_dist": str(dist)})


def _distribution(url: str) -> dict:
    cf = client("cloudfront", url)
    for item in cf.list_distributions()["DistributionList"].get("Items") or []:
        got = cf.get_distribution_config(Id=item["Id"])
        if got["DistributionConfig"]["CallerReference"] == REF:
            return {**item, "Config": got["DistributionConfig"]}
    raise AssertionError("no distribution")


def _acm_us_east_1(url: str):  # noqa: ANN202 - boto3 clients are dynamically typed
    """ACM where CloudFront takes its certificates from (the stack's own region is another)."""
    return boto3.client("acm", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="localcloud", aws_secret_access_key="localcloud")


def _invalidations(url: str, distribution_id: str) -> list[dict]:
    listed = client("cloudfront", url).list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    return listed.get("Items") or []


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("frontend")
    dist = web_build(tmp / "dist")
    with private_cloud(tmp / "localcloud.log") as url:
        # the edge tier's zone (the API origin is its api record's name; nothing more is read)
        client("route53", url).create_hosted_zone(Name=DOMAIN, CallerReference=uuid.uuid4().hex)
        check = _run(url, dist, "--check")
        assert check.returncode == 0, check.output[-4000:]
        assert client("cloudfront", url).list_distributions()["DistributionList"].get("Items") in (None, [])
        assert BUCKET not in [b["Name"] for b in client("s3", url).list_buckets()["Buckets"]]
        first = _run(url, dist)
        assert first.returncode == 0 and first.recap["changed"] >= 8, first.output[-4000:]
        yield url, dist


def test_a_site_that_is_not_built_is_refused(cloud: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = cloud
    refused = _run(url, tmp_path)
    assert refused.returncode != 0 and "build the app first (make web)" in refused.output, refused.output[-4000:]


def test_bucket_is_private_and_readable_only_by_the_distribution(cloud: tuple[str, Path]) -> None:
    url, _ = cloud
    s3 = client("s3", url)
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow == [{"Sid": "OnlyTheDistributionReads", "Effect": "Allow",
                      "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                      "Resource": f"arn:aws:s3:::{BUCKET}/*",
                      "Condition": {"StringEquals": {"AWS:SourceArn": _distribution(url)["ARN"]}}}]


def test_upload_has_content_types_and_caching(cloud: tuple[str, Path]) -> None:
    url, _ = cloud
    s3 = client("s3", url)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == ["assets/index-AbCd1234.js", "assets/index-EfGh5678.css", "favicon.svg", "index.html"]
    heads = {k: s3.head_object(Bucket=BUCKET, Key=k) for k in keys}
    assert heads["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert heads["index.html"]["CacheControl"] == "no-cache"
    assert heads["favicon.svg"]["ContentType"] == "image/svg+xml"
    assert heads["assets/index-AbCd1234.js"]["ContentType"] == "text/javascript"
    assert heads["assets/index-EfGh5678.css"]["ContentType"] == "text/css"
    for key in ("assets/index-AbCd1234.js", "assets/index-EfGh5678.css"):
        assert heads[key]["CacheControl"] == "public, max-age=31536000, immutable"


def test_distribution_serves_the_bucket_and_sends_the_api_to_the_alb(cloud: tuple[str, Path]) -> None:
    url, _ = cloud
    distribution = _distribution(url)
    config = distribution["Config"]
    assert distribution["Status"] == "Deployed" and config["Enabled"] is True
    assert config["Aliases"]["Items"] == [DOMAIN, f"www.{DOMAIN}"]
    certificate_arn = config["ViewerCertificate"]["ACMCertificateArn"]
    assert certificate_arn.split(":")[3] == "us-east-1"
    described = _acm_us_east_1(url).describe_certificate(CertificateArn=certificate_arn)["Certificate"]
    assert described["Status"] == "ISSUED"
    assert sorted(described["SubjectAlternativeNames"]) == [DOMAIN, f"www.{DOMAIN}"]

    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    oac = client("cloudfront", url).list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert origins["site"]["OriginAccessControlId"] == next(o["Id"] for o in oac if o["Name"] == REF)
    assert origins["site"]["DomainName"].startswith(f"{BUCKET}.s3.")
    assert origins["api"]["DomainName"] == f"api.{DOMAIN}"
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"

    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "site" and default["Compress"] is True
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    function_arn = default["FunctionAssociations"]["Items"][0]["FunctionARN"]
    assert default["FunctionAssociations"]["Items"][0]["EventType"] == "viewer-request"
    live = client("cloudfront", url).get_function(Name=function_arn.rsplit("/", 1)[1], Stage="LIVE")
    assert b"/index.html" in live["FunctionCode"].read()

    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]["Items"]}
    assert sorted(behaviours) == ["/health", "/v1/*"]
    for behaviour in behaviours.values():
        assert behaviour["TargetOriginId"] == "api"
        assert sorted(behaviour["AllowedMethods"]["Items"]) == sorted(
            ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"])
        assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
        # AllViewerExceptHostHeader: Authorization, cookies and query strings reach the API
        assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
        assert behaviour["ResponseHeadersPolicyId"] == default["ResponseHeadersPolicyId"]

    policy = client("cloudfront", url).get_response_headers_policy(Id=default["ResponseHeadersPolicyId"])
    headers = policy["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "frame-ancestors 'none'" in csp
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"


def test_names_are_aliases_of_the_distribution(cloud: tuple[str, Path]) -> None:
    url, _ = cloud
    r53 = client("route53", url)
    zone = r53.list_hosted_zones_by_name(DNSName=DOMAIN)["HostedZones"][0]["Id"]
    records = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    aliases = {(r["Name"], r["Type"]): r["AliasTarget"] for r in records if "AliasTarget" in r}
    domain_name = _distribution(url)["DomainName"]
    for name in (DOMAIN, f"www.{DOMAIN}"):
        for kind in ("A", "AAAA"):
            target = aliases[(f"{name}.", kind)]
            assert target["DNSName"].rstrip(".") == domain_name and target["HostedZoneId"] == "Z2FDTNDATAQYW2"


def test_second_run_changes_nothing_and_invalidates_nothing(cloud: tuple[str, Path]) -> None:
    url, dist = cloud
    before = _invalidations(url, _distribution(url)["Id"])
    again = _run(url, dist)
    assert again.returncode == 0 and again.recap["changed"] == 0, again.output[-4000:]
    assert _invalidations(url, _distribution(url)["Id"]) == before


def test_check_mode_on_the_converged_site_changes_nothing(cloud: tuple[str, Path]) -> None:
    url, dist = cloud
    check = _run(url, dist, "--check", "--diff")
    assert check.returncode == 0 and check.recap["changed"] == 0, check.output[-4000:]


def test_invalidation_only_when_index_html_changed(cloud: tuple[str, Path]) -> None:
    url, dist = cloud
    distribution_id = _distribution(url)["Id"]
    before = {i["Id"] for i in _invalidations(url, distribution_id)}
    (dist / "assets" / "chunk-IjKl9012.js").write_text("export const x = 1")
    assets_only = _run(url, dist)
    assert assets_only.returncode == 0 and assets_only.recap["changed"] == 1, assets_only.output[-4000:]
    assert {i["Id"] for i in _invalidations(url, distribution_id)} == before
    (dist / "index.html").write_text(WEB_INDEX.replace("AbCd1234", "MnOp3456"))
    new_index = _run(url, dist)
    assert new_index.returncode == 0, new_index.output[-4000:]
    new = [i["Id"] for i in _invalidations(url, distribution_id) if i["Id"] not in before]
    assert len(new) == 1
    batch = client("cloudfront", url).get_invalidation(DistributionId=distribution_id, Id=new[0])
    assert batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/index.html"]


def test_teardown_removes_it_all(cloud: tuple[str, Path]) -> None:
    url, _ = cloud
    for _ in range(2):  # the second teardown finds nothing left
        down = run_playbook("teardown.yml", url, "--tags", "frontend")
        assert down.returncode == 0, down.output[-4000:]
    cf = client("cloudfront", url)
    assert cf.list_distributions()["DistributionList"].get("Items") in (None, [])
    assert cf.list_functions()["FunctionList"].get("Items") in (None, [])
    assert cf.list_origin_access_controls()["OriginAccessControlList"].get("Items") in (None, [])
    assert cf.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]["Items"] == []
    assert BUCKET not in [b["Name"] for b in client("s3", url).list_buckets()["Buckets"]]
    assert _acm_us_east_1(url).list_certificates()["CertificateSummaryList"] == []
    r53 = client("route53", url)
    zone = r53.list_hosted_zones_by_name(DNSName=DOMAIN)["HostedZones"][0]["Id"]
    left = [(r["Name"], r["Type"]) for r in r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
            if r["Type"] not in ("NS", "SOA")]
    # the apex's validation record is the edge certificate's too: the edge teardown removes it
    assert [name for name, kind in left if kind != "CNAME" or f"www.{DOMAIN}" in name] == []
