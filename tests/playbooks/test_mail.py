"""playbooks/mail.yml: the SES domain identity, verified and DKIM-signed through records in the
zone; a second run changes nothing; the alerts address can send; teardown removes it."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from provision_helpers import client, private_cloud, run_playbook  # type: ignore[import-not-found]

pytestmark = [pytest.mark.slow, pytest.mark.playbook, pytest.mark.localcloud]

DOMAIN = "autobuyguard.store"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_cloud(tmp_path_factory.mktemp("mail") / "localcloud.log") as url:
        # the edge tier's zone (the tier itself needs the network; the zone is all mail uses)
        client("route53", url).create_hosted_zone(Name=DOMAIN, CallerReference=uuid.uuid4().hex)
        check = run_playbook("playbooks/mail.yml", url, "--check")
        assert check.returncode == 0, check.output[-4000:]
        assert client("ses", url).list_identities()["Identities"] == []
        first = run_playbook("playbooks/mail.yml", url)
        assert first.returncode == 0 and first.recap["changed"] >= 3, first.output[-4000:]
        yield url


def test_identity_is_verified_and_dkim_signed_through_the_zone(cloud: str) -> None:
    ses = client("ses", cloud)
    verification = ses.get_identity_verification_attributes(Identities=[DOMAIN])["VerificationAttributes"]
    assert verification[DOMAIN]["VerificationStatus"] == "Success"
    dkim = ses.get_identity_dkim_attributes(Identities=[DOMAIN])["DkimAttributes"][DOMAIN]
    assert dkim["DkimEnabled"] is True and dkim["DkimVerificationStatus"] == "Success"
    zone = client("route53", cloud).list_hosted_zones_by_name(DNSName=DOMAIN)["HostedZones"][0]["Id"]
    records = client("route53", cloud).list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    cnames = {r["Name"].rstrip("."): r["ResourceRecords"][0]["Value"] for r in records if r["Type"] == "CNAME"}
    assert cnames == {f"{t}._domainkey.{DOMAIN}": f"{t}.dkim.amazonses.com" for t in dkim["DkimTokens"]}


def test_alerts_address_can_send(cloud: str) -> None:
    client("ses", cloud).send_raw_email(Source=f"alerts@{DOMAIN}", RawMessage={"Data": (
        f"From: alerts@{DOMAIN}\r\nTo: ana@example.com\r\nSubject: t\r\n\r\nhi\r\n").encode()})


def test_second_run_changes_nothing(cloud: str) -> None:
    again = run_playbook("playbooks/mail.yml", cloud)
    assert again.returncode == 0 and again.recap["changed"] == 0, again.output[-4000:]


def test_teardown_removes_the_identity(cloud: str) -> None:
    down = run_playbook("teardown.yml", cloud, "--tags", "mail")
    assert down.returncode == 0, down.output[-4000:]
    assert client("ses", cloud).list_identities()["Identities"] == []
