"""acm_request against the local cloud: request, idempotence, check mode, delete, waits."""
from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import acm_request
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


def domain() -> str:
    return f"t{uuid.uuid4().hex[:10]}.example.org"


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, check: bool = False) -> dict[str, Any]:
    return run_module(acm_request, args, check_mode=check, monkeypatch=monkeypatch)


def arns_for(name: str) -> list[str]:
    acm = boto3.client("acm")
    return [
        c["CertificateArn"]
        for c in acm.list_certificates()["CertificateSummaryList"]
        if c["DomainName"] == name
    ]


def test_requests_then_finds_the_same_certificate(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    apex = domain()
    args = {"domain_name": f"*.{apex}", "subject_alternative_names": [apex], "tags": {"Project": "t"}}
    first = run(args, monkeypatch)
    assert first["changed"] is True
    assert first["status"] == "PENDING_VALIDATION"
    assert first["subject_alternative_names"] == sorted([f"*.{apex}", apex])
    records = first["validation_records"]
    assert records and all(set(r) == {"name", "type", "value"} and r["type"] == "CNAME" for r in records)
    # the wildcard and its apex share one validation record: listed once
    assert len({(r["name"], r["value"]) for r in records}) == len(records) == 1
    described = boto3.client("acm").describe_certificate(CertificateArn=first["certificate_arn"])
    assert sorted(described["Certificate"]["SubjectAlternativeNames"]) == sorted([f"*.{apex}", apex])
    tags = boto3.client("acm").list_tags_for_certificate(CertificateArn=first["certificate_arn"])["Tags"]
    assert {"Key": "Project", "Value": "t"} in tags

    second = run({**args, "subject_alternative_names": [apex.upper() + "."]}, monkeypatch)
    assert second["changed"] is False
    assert second["certificate_arn"] == first["certificate_arn"]
    assert arns_for(f"*.{apex}") == [first["certificate_arn"]]


def test_other_names_mean_another_certificate(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    apex = domain()
    one = run({"domain_name": apex}, monkeypatch)
    two = run({"domain_name": apex, "subject_alternative_names": [f"www.{apex}"]}, monkeypatch)
    assert two["changed"] is True
    assert two["certificate_arn"] != one["certificate_arn"]
    assert len(arns_for(apex)) == 2


def test_check_mode_requests_nothing(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    apex = domain()
    result = run({"domain_name": apex}, monkeypatch, check=True)
    assert result["changed"] is True
    assert result["certificate_arn"] == ""
    assert arns_for(apex) == []


def test_tags_are_added_to_an_existing_certificate(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    apex = domain()
    first = run({"domain_name": apex}, monkeypatch)
    check = run({"domain_name": apex, "tags": {"Tier": "edge"}}, monkeypatch, check=True)
    assert check["changed"] is True
    tagged = run({"domain_name": apex, "tags": {"Tier": "edge"}}, monkeypatch)
    assert tagged["changed"] is True and tagged["certificate_arn"] == first["certificate_arn"]
    again = run({"domain_name": apex, "tags": {"Tier": "edge"}}, monkeypatch)
    assert again["changed"] is False


def test_absent_deletes_and_is_idempotent(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    apex = domain()
    run({"domain_name": apex}, monkeypatch)
    check = run({"domain_name": apex, "state": "absent"}, monkeypatch, check=True)
    assert check["changed"] is True and len(arns_for(apex)) == 1
    gone = run({"domain_name": apex, "state": "absent"}, monkeypatch)
    assert gone["changed"] is True and gone["status"] == "DELETED"
    assert arns_for(apex) == []
    again = run({"domain_name": apex, "state": "absent"}, monkeypatch)
    assert again["changed"] is False and again["status"] == "ABSENT"


@pytest.mark.parametrize("bad", ["not a domain", "*.*.example.org", "example", "a..example.org", "-x.example.org"])
def test_invalid_domain_fails_naming_it(localcloud: str, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run({"domain_name": bad}, monkeypatch)
    assert "invalid domain name" in failed.value.result["msg"] and repr(bad) in failed.value.result["msg"]


def test_wait_times_out_with_a_hint(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    apex = domain()
    with pytest.raises(ModuleFailed) as failed:
        run({"domain_name": apex, "wait": True, "wait_timeout": 1}, monkeypatch)
    msg = failed.value.result["msg"]
    assert "still PENDING_VALIDATION after 1s" in msg and "validation records" in msg


def test_bad_endpoint_is_reported(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run({"domain_name": domain(), "endpoint_url": "localhost:4566"}, monkeypatch)
    assert "endpoint_url must be an http(s) URL" in failed.value.result["msg"]


class FakeAcm:
    """Describe answers a scripted sequence of statuses (no cloud needed)."""

    def __init__(self, statuses: list[str], reason: str = "") -> None:
        self.statuses = statuses
        self.reason = reason

    def describe(self, arn: str) -> dict[str, Any]:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"CertificateArn": arn, "Status": status, "FailureReason": self.reason}


def test_wait_for_issued_follows_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(acm_request, "ISSUED_INTERVAL", 0.01)
    fake = FakeAcm(["PENDING_VALIDATION", "PENDING_VALIDATION", "ISSUED"])
    assert acm_request.wait_for_issued(fake, "arn:x", 5)["Status"] == "ISSUED"


def test_wait_for_issued_fails_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(acm_request, "ISSUED_INTERVAL", 0.01)
    fake = FakeAcm(["PENDING_VALIDATION", "FAILED"], reason="CAA_ERROR")
    with pytest.raises(acm_request.ModuleFailure, match=r"is FAILED \(CAA_ERROR\)"):
        acm_request.wait_for_issued(fake, "arn:x", 5)


def test_records_are_deduplicated_and_sorted() -> None:
    rec = {"Name": "_a.example.org.", "Type": "CNAME", "Value": "_v.acm-validations.aws."}
    cert = {"DomainValidationOptions": [
        {"DomainName": "*.example.org", "ResourceRecord": rec},
        {"DomainName": "example.org", "ResourceRecord": dict(rec)},
        {"DomainName": "www.example.org"},
    ]}
    assert acm_request.validation_records(cert) == [
        {"name": "_a.example.org.", "type": "CNAME", "value": "_v.acm-validations.aws."}
    ]
    assert acm_request.records_complete({**cert, "Status": "PENDING_VALIDATION"}) is False
    assert acm_request.records_complete({**cert, "Status": "ISSUED"}) is True


def test_wait_until_issued_once_records_are_in_the_zone(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The play's flow: request, write the CNAMEs into the zone, wait for ISSUED."""
    monkeypatch.setattr(acm_request, "ISSUED_INTERVAL", 1)
    apex = domain()
    args = {"domain_name": f"*.{apex}", "subject_alternative_names": [apex]}
    requested = run(args, monkeypatch)
    route53 = boto3.client("route53")
    zone = route53.create_hosted_zone(Name=apex, CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {
            "Name": r["name"], "Type": r["type"], "TTL": 300, "ResourceRecords": [{"Value": r["value"]}]}}
        for r in requested["validation_records"]]})
    issued = run({**args, "wait": True, "wait_timeout": 60}, monkeypatch)
    assert issued["status"] == "ISSUED" and issued["changed"] is False
    assert issued["certificate_arn"] == requested["certificate_arn"]
    described = boto3.client("acm").describe_certificate(CertificateArn=issued["certificate_arn"])
    assert described["Certificate"]["Status"] == "ISSUED"
