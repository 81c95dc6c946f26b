"""CloudFront on the local cloud: response headers policies (with ETags), and distributions
that keep an origin's access control and a behaviour's function associations."""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

SECURITY = {
    "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy":
                              "default-src 'self'; script-src 'self'; frame-ancestors 'none'"},
    "StrictTransportSecurity": {"Override": True, "IncludeSubdomains": True, "Preload": False,
                                "AccessControlMaxAgeSec": 63072000},
    "ContentTypeOptions": {"Override": True},
    "ReferrerPolicy": {"Override": True, "ReferrerPolicy": "strict-origin-when-cross-origin"},
}


def _config(name: str, **changes) -> dict:
    return {"Name": name, "Comment": "site", "SecurityHeadersConfig": {**SECURITY, **changes}}


def test_response_headers_policy_lifecycle(localcloud: str) -> None:
    cf = boto3.client("cloudfront")
    name = f"site-{uuid.uuid4().hex[:8]}"
    created = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=_config(name))
    policy_id, etag = created["ResponseHeadersPolicy"]["Id"], created["ETag"]
    got = cf.get_response_headers_policy(Id=policy_id)
    assert got["ETag"] == etag
    csp = got["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert csp["ContentSecurityPolicy"]["ContentSecurityPolicy"].endswith("frame-ancestors 'none'")
    listed = cf.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]["Items"]
    assert name in [p["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Name"] for p in listed]
    managed = cf.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]["Items"]
    assert [p["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Name"] for p in managed] == [
        "Managed-SecurityHeadersPolicy"]
    with pytest.raises(ClientError, match="ResponseHeadersPolicyAlreadyExists"):
        cf.create_response_headers_policy(ResponseHeadersPolicyConfig=_config(name))

    # the same configuration again: nothing changes; another one: a new ETag
    same = cf.update_response_headers_policy(Id=policy_id, IfMatch=etag, ResponseHeadersPolicyConfig=_config(name))
    assert same["ETag"] == etag
    assert same["ResponseHeadersPolicy"]["LastModifiedTime"] == got["ResponseHeadersPolicy"]["LastModifiedTime"]
    changed = cf.update_response_headers_policy(
        Id=policy_id, IfMatch=etag, ResponseHeadersPolicyConfig=_config(name, ContentTypeOptions={"Override": False}))
    assert changed["ETag"] != etag
    with pytest.raises(ClientError, match="PreconditionFailed"):
        cf.delete_response_headers_policy(Id=policy_id, IfMatch=etag)  # stale
    cf.delete_response_headers_policy(Id=policy_id, IfMatch=changed["ETag"])
    with pytest.raises(ClientError, match="NoSuchResponseHeadersPolicy"):
        cf.get_response_headers_policy(Id=policy_id)


def test_distribution_keeps_origin_access_control_and_functions(localcloud: str) -> None:
    cf = boto3.client("cloudfront")
    oac = cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": f"oac-{uuid.uuid4().hex[:8]}", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    policy = cf.create_response_headers_policy(
        ResponseHeadersPolicyConfig=_config(f"p-{uuid.uuid4().hex[:8]}"))["ResponseHeadersPolicy"]["Id"]
    function_arn = "arn:aws:cloudfront::123456789012:function/spa-routing"
    distribution = cf.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "site", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "site", "DomainName": "site-bucket.s3.eu-central-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": oac}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https", "Compress": True,
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6", "ResponseHeadersPolicyId": policy,
            "FunctionAssociations": {"Quantity": 1, "Items": [
                {"FunctionARN": function_arn, "EventType": "viewer-request"}]}},
    })["Distribution"]
    config = cf.get_distribution_config(Id=distribution["Id"])["DistributionConfig"]
    assert config["Origins"]["Items"][0]["OriginAccessControlId"] == oac
    assert config["Origins"]["Items"][0]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["FunctionAssociations"]["Items"] == [{"FunctionARN": function_arn, "EventType": "viewer-request"}]
    assert behaviour["ResponseHeadersPolicyId"] == policy
    etag = cf.get_response_headers_policy(Id=policy)["ETag"]
    with pytest.raises(ClientError, match="ResponseHeadersPolicyInUse"):
        cf.delete_response_headers_policy(Id=policy, IfMatch=etag)


SPA = b"function handler(event) { return event.request; }"


def test_function_update_and_publish_keep_two_stages(localcloud: str) -> None:
    cf = boto3.client("cloudfront")
    name = f"spa-{uuid.uuid4().hex[:8]}"
    config = {"Comment": "SPA routing", "Runtime": "cloudfront-js-2.0"}
    created = cf.create_function(Name=name, FunctionConfig=config, FunctionCode=SPA)
    assert created["FunctionSummary"]["Status"] == "UNPUBLISHED"
    with pytest.raises(ClientError, match="NoSuchFunctionExists"):
        cf.describe_function(Name=name, Stage="LIVE")  # never published
    with pytest.raises(ClientError, match="PreconditionFailed"):
        cf.publish_function(Name=name, IfMatch="STALE")
    published = cf.publish_function(Name=name, IfMatch=created["ETag"])
    assert published["FunctionSummary"]["FunctionMetadata"]["Stage"] == "LIVE"
    live = cf.describe_function(Name=name, Stage="LIVE")
    assert live["FunctionSummary"]["Status"] == "UNASSOCIATED"
    assert cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == SPA

    development = cf.describe_function(Name=name)
    assert development["ETag"] != created["ETag"]  # publishing gives a new ETag
    newer = SPA.replace(b"return", b"/* v2 */ return")
    updated = cf.update_function(Name=name, IfMatch=development["ETag"], FunctionConfig=config,
                                 FunctionCode=newer)
    assert updated["FunctionSummary"]["Status"] == "UNPUBLISHED"
    assert cf.get_function(Name=name)["FunctionCode"].read() == newer
    assert cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == SPA  # until published
    cf.publish_function(Name=name, IfMatch=updated["ETag"])
    assert cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == newer
    with pytest.raises(ClientError, match="PreconditionFailed"):
        cf.delete_function(Name=name, IfMatch=updated["ETag"])  # stale since the publish
    cf.delete_function(Name=name, IfMatch=cf.describe_function(Name=name)["ETag"])
    with pytest.raises(ClientError, match="NoSuchFunctionExists"):
        cf.describe_function(Name=name)
