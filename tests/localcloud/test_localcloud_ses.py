"""SES on the local cloud: domains verify and DKIM succeeds only through Route 53 records;
mail from an unverified domain is refused; what SES accepted is readable."""
from __future__ import annotations

import json
import urllib.request
import uuid

import boto3
import pytest


def _zone(domain: str) -> str:
    return boto3.client("route53").create_hosted_zone(
        Name=domain, CallerReference=uuid.uuid4().hex)["HostedZone"]["Id"]


def _upsert(zone_id: str, name: str, kind: str, value: str) -> None:
    boto3.client("route53").change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": kind, "TTL": 300,
                                                  "ResourceRecords": [{"Value": value}]}}]})


def _send(ses, sender: str) -> None:
    ses.send_raw_email(Source=sender, RawMessage={"Data": (
        f"From: {sender}\r\nTo: bo@example.com\r\nSubject: hello\r\n\r\nhi\r\n").encode()})


def test_domain_is_pending_until_its_txt_record_exists(localcloud: str) -> None:
    ses = boto3.client("ses")
    domain = f"d{uuid.uuid4().hex[:8]}.example.org"
    other = f"e{uuid.uuid4().hex[:8]}.example.org"
    token = ses.verify_domain_identity(Domain=domain)["VerificationToken"]
    assert token != ses.verify_domain_identity(Domain=other)["VerificationToken"]  # each its own
    status = ses.get_identity_verification_attributes(Identities=[domain])["VerificationAttributes"]
    assert status[domain] == {"VerificationStatus": "Pending", "VerificationToken": token}
    with pytest.raises(ses.exceptions.MessageRejected):
        _send(ses, f"alerts@{domain}")

    zone = _zone(domain)
    _upsert(zone, f"_amazonses.{domain}", "TXT", '"wrong-token"')
    assert ses.get_identity_verification_attributes(
        Identities=[domain])["VerificationAttributes"][domain]["VerificationStatus"] == "Pending"
    _upsert(zone, f"_amazonses.{domain}", "TXT", f'"{token}"')
    assert ses.get_identity_verification_attributes(
        Identities=[domain])["VerificationAttributes"][domain]["VerificationStatus"] == "Success"
    _send(ses, f"AutoBuy Guard <alerts@{domain}>")
    with urllib.request.urlopen(localcloud + "/localcloud/ses/messages", timeout=10) as resp:
        sent = json.load(resp)["messages"]
    assert [m["subject"] for m in sent if m["source"] == f"AutoBuy Guard <alerts@{domain}>"] == ["hello"]


def test_dkim_succeeds_once_its_three_cnames_exist(localcloud: str) -> None:
    ses = boto3.client("ses")
    domain = f"k{uuid.uuid4().hex[:8]}.example.org"
    ses.verify_domain_identity(Domain=domain)
    before = ses.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"][domain]
    assert before["DkimEnabled"] is False and before["DkimVerificationStatus"] == "NotStarted"
    tokens = ses.verify_domain_dkim(Domain=domain)["DkimTokens"]
    assert len(set(tokens)) == 3
    assert ses.verify_domain_dkim(Domain=domain)["DkimTokens"] == tokens  # asked again: the same
    zone = _zone(domain)
    for token in tokens[:2]:
        _upsert(zone, f"{token}._domainkey.{domain}", "CNAME", f"{token}.dkim.amazonses.com")
    pending = ses.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"][domain]
    assert pending == {"DkimEnabled": True, "DkimVerificationStatus": "Pending", "DkimTokens": tokens}
    _upsert(zone, f"{tokens[2]}._domainkey.{domain}", "CNAME", f"{tokens[2]}.dkim.amazonses.com")
    done = ses.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"][domain]
    assert done["DkimVerificationStatus"] == "Success"
    ses.set_identity_dkim_enabled(Identity=domain, DkimEnabled=False)
    assert ses.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"][domain]["DkimEnabled"] is False
