#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request (or delete) a DNS-validated ACM certificate, idempotently."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: acm_request
short_description: Request a DNS-validated ACM certificate and optionally wait until it is issued
description:
  - Requests an Amazon-issued certificate from AWS Certificate Manager (ACM) for a domain
    name and its subject alternative names, with DNS validation.
  - Idempotent. An existing certificate for the same domain name and the same set of
    subject alternative names (in status C(PENDING_VALIDATION) or C(ISSUED)) is reused
    instead of requesting a new one.
  - Returns the DNS validation records (de-duplicated) so a play can write them into a
    Route 53 zone, and can then wait until the certificate is C(ISSUED).
  - C(community.aws.acm_certificate) can only import certificates; this module requests them.
version_added: "1.0.0"
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  domain_name:
    description:
      - Fully qualified domain name of the certificate, for example C(*.autobuyguard.store).
      - A wildcard is allowed only as the leftmost label.
    type: str
    required: true
  subject_alternative_names:
    description:
      - Additional names of the certificate, for example the apex C(autobuyguard.store).
      - The domain name itself is always part of the certificate; listing it here is harmless.
    type: list
    elements: str
    default: []
  validation_method:
    description: How ownership is proven. Only C(DNS) is supported.
    type: str
    choices: [DNS]
    default: DNS
  state:
    description:
      - C(present) requests the certificate unless a matching one exists.
      - C(absent) deletes every matching certificate (same domain name and names).
  wait:
    description:
      - Wait until the certificate is C(ISSUED). Fails when validation fails or times out.
      - Write the returned validation records into the DNS zone first (in an earlier task),
        otherwise the certificate stays C(PENDING_VALIDATION).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for C(ISSUED) when O(wait=true).
    type: int
    default: 600
  tags:
    description:
      - Tags to set on the certificate. Tags given here are added or updated on an
        existing certificate; other tags are left alone.
    type: dict
extends_documentation_fragment:
  - autobuy.guard.autobuy_aws
  - autobuy.guard.state
notes:
  - Supports check mode. In check mode nothing is requested or deleted and
    RV(certificate_arn) is empty when a certificate would be requested.
"""

EXAMPLES = r"""
- name: Request the certificate for the apex and every subdomain
  autobuy.guard.acm_request:
    domain_name: "*.autobuyguard.store"
    subject_alternative_names:
      - autobuyguard.store
    tags:
      Project: autobuy-guard
    region: eu-central-1
    endpoint_url: "{{ aws_endpoint_url | default(omit, true) }}"
  register: certificate

- name: Write the validation records into the hosted zone
  amazon.aws.route53:
    state: present
    zone: autobuyguard.store
    record: "{{ item.name }}"
    type: "{{ item.type }}"
    value: "{{ item.value }}"
    ttl: 300
    overwrite: true
  loop: "{{ certificate.validation_records }}"

- name: Wait until the certificate is issued
  autobuy.guard.acm_request:
    domain_name: "*.autobuyguard.store"
    subject_alternative_names:
      - autobuyguard.store
    wait: true
    wait_timeout: 900

- name: Delete the certificate
  autobuy.guard.acm_request:
    domain_name: "*.autobuyguard.store"
    subject_alternative_names:
      - autobuyguard.store
    state: absent
"""

RETURN = r"""
certificate_arn:
  description: ARN of the certificate (the first match for O(state=absent)); empty in check mode when it would be requested.
  returned: always
  type: str
  sample: arn:aws:acm:eu-central-1:123456789012:certificate/0b5a5e9e-3c4e-4c43-9a41-5d1d5d7e0c11
certificate_arns:
  description: ARNs of every matching certificate (several only when duplicates existed before).
  returned: always
  type: list
  elements: str
status:
  description: ACM status (C(PENDING_VALIDATION), C(ISSUED), ...), or C(DELETED) / C(ABSENT) for O(state=absent).
  returned: always
  type: str
  sample: ISSUED
domain_name:
  description: The certificate's domain name (normalised to lower case, no trailing dot).
  returned: always
  type: str
  sample: "*.autobuyguard.store"
subject_alternative_names:
  description: Every name of the certificate, the domain name included, sorted.
  returned: always
  type: list
  elements: str
  sample: ["*.autobuyguard.store", "autobuyguard.store"]
validation_records:
  description: DNS records proving ownership, de-duplicated (a wildcard and its apex share one).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Record name (fully qualified, with trailing dot as ACM returns it).
      type: str
    type:
      description: Record type, C(CNAME).
      type: str
    value:
      description: Record value.
      type: str
  sample: [{"name": "_x1.autobuyguard.store.", "type": "CNAME", "value": "_x2.acm-validations.aws."}]
changed:
  description: Whether a certificate was requested, tagged or deleted.
  returned: always
  type: bool
"""

import hashlib  # noqa: E402
import re  # noqa: E402
from typing import Any, Optional  # noqa: E402

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import WaitTimeout, aws_retry, wait_until  # noqa: E402
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_module import AutobuyAWSModule, ModuleFailure  # noqa: E402

LIVE_STATUSES = ("PENDING_VALIDATION", "ISSUED")
FAILED_STATUSES = frozenset({"FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE"})
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(\*\.)?({_LABEL}\.)+[a-z]{{2,63}}$")
RECORDS_TIMEOUT = 120
RECORDS_INTERVAL = 2
ISSUED_INTERVAL = 5

retry = aws_retry()


def normalise_name(name: str) -> str:
    """Lower case without trailing dot; raises ModuleFailure for an invalid domain name."""
    value = name.strip().lower().rstrip(".")
    if len(value) > 253 or not _DOMAIN.match(value):
        raise ModuleFailure(
            f"invalid domain name {name!r}: expected a fully qualified name such as "
            "'example.com' or '*.example.com' (a wildcard only as the leftmost label)"
        )
    return value


def wanted_names(domain: str, sans: list[str]) -> tuple[str, ...]:
    """The full, sorted set of names of a certificate (domain included)."""
    return tuple(sorted({domain, *sans}))


def idempotency_token(names: tuple[str, ...]) -> str:
    """ACM idempotency token (alphanumeric, <= 32) derived from the names."""
    return hashlib.sha256("|".join(names).encode()).hexdigest()[:32]


def validation_records(certificate: dict[str, Any]) -> list[dict[str, str]]:
    """De-duplicated {name, type, value} records of a described certificate."""
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for option in certificate.get("DomainValidationOptions", []):
        record = option.get("ResourceRecord")
        if not record:
            continue
        item = {"name": record["Name"], "type": record["Type"], "value": record["Value"]}
        seen.setdefault((item["name"], item["type"], item["value"]), item)
    return sorted(seen.values(), key=lambda r: (r["name"], r["value"]))


def records_complete(certificate: dict[str, Any]) -> bool:
    """True once ACM has published a validation record for every name (or it is issued)."""
    if certificate.get("Status") != "PENDING_VALIDATION":
        return True
    options = certificate.get("DomainValidationOptions", [])
    return bool(options) and all(o.get("ResourceRecord") for o in options)


def certificate_names(certificate: dict[str, Any]) -> tuple[str, ...]:
    names = [certificate.get("DomainName", "")] + certificate.get("SubjectAlternativeNames", [])
    return tuple(sorted({n.lower().rstrip(".") for n in names if n}))


class Acm:
    """The few ACM calls the module makes, each retried on throttling."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def describe(self, arn: str) -> dict[str, Any]:
        return retry(self.client.describe_certificate)(CertificateArn=arn)["Certificate"]

    def find(self, domain: str, names: tuple[str, ...]) -> list[dict[str, Any]]:
        """Described Amazon-issued certificates with exactly these names, oldest first."""
        found = []
        kwargs: dict[str, Any] = {"CertificateStatuses": list(LIVE_STATUSES)}
        while True:
            page = retry(self.client.list_certificates)(**kwargs)
            for summary in page.get("CertificateSummaryList", []):
                if summary.get("DomainName", "").lower().rstrip(".") != domain:
                    continue
                cert = self.describe(summary["CertificateArn"])
                if cert.get("Type") == "AMAZON_ISSUED" and certificate_names(cert) == names:
                    found.append(cert)
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        return sorted(found, key=lambda c: str(c.get("CreatedAt", "")))

    def request(self, domain: str, names: tuple[str, ...], tags: dict[str, str]) -> str:
        params: dict[str, Any] = {
            "DomainName": domain,
            "ValidationMethod": "DNS",
            "IdempotencyToken": idempotency_token(names),
        }
        sans = [n for n in names if n != domain]
        if sans:
            params["SubjectAlternativeNames"] = [domain, *sans]
        if tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        return retry(self.client.request_certificate)(**params)["CertificateArn"]

    def missing_tags(self, arn: str, tags: dict[str, str]) -> dict[str, str]:
        current = retry(self.client.list_tags_for_certificate)(CertificateArn=arn).get("Tags", [])
        have = {t["Key"]: t.get("Value", "") for t in current}
        return {k: v for k, v in tags.items() if have.get(k) != v}

    def add_tags(self, arn: str, tags: dict[str, str]) -> None:
        retry(self.client.add_tags_to_certificate)(
            CertificateArn=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        )

    def delete(self, arn: str) -> None:
        retry(self.client.delete_certificate)(CertificateArn=arn)


def wait_for_records(acm: Acm, arn: str) -> dict[str, Any]:
    """ACM publishes validation records a few seconds after the request."""
    try:
        return wait_until(
            lambda: acm.describe(arn), records_complete,
            timeout=RECORDS_TIMEOUT, interval=RECORDS_INTERVAL,
            what=f"the validation records of {arn}",
        )
    except WaitTimeout as exc:
        return exc.last


def wait_for_issued(acm: Acm, arn: str, timeout: int) -> dict[str, Any]:
    def settled(cert: dict[str, Any]) -> bool:
        return cert.get("Status") == "ISSUED" or cert.get("Status") in FAILED_STATUSES

    try:
        cert = wait_until(
            lambda: acm.describe(arn), settled, timeout=timeout,
            interval=min(ISSUED_INTERVAL, max(1, timeout)), what=f"{arn} to be ISSUED",
        )
    except WaitTimeout as exc:
        raise ModuleFailure(
            f"certificate {arn} still {exc.last.get('Status')} after {timeout}s; "
            "are the validation records in the DNS zone?",
        ) from exc
    if cert.get("Status") != "ISSUED":
        reason = cert.get("FailureReason") or "no reason given"
        raise ModuleFailure(f"certificate {arn} is {cert.get('Status')} ({reason})")
    return cert


def result_for(cert: Optional[dict[str, Any]], domain: str, names: tuple[str, ...],
               changed: bool, arns: list[str], status: Optional[str] = None) -> dict[str, Any]:
    return {
        "changed": changed,
        "certificate_arn": (cert or {}).get("CertificateArn", arns[0] if arns else ""),
        "certificate_arns": arns,
        "status": status or (cert or {}).get("Status", "PENDING_VALIDATION"),
        "domain_name": domain,
        "subject_alternative_names": list(names),
        "validation_records": validation_records(cert or {}),
    }


def ensure_present(module: AutobuyAWSModule, acm: Acm, domain: str, names: tuple[str, ...]) -> dict[str, Any]:
    p = module.params
    tags = {str(k): str(v) for k, v in (p["tags"] or {}).items()}
    existing = acm.find(domain, names)
    changed = False
    if existing:
        cert = existing[0]
        missing = acm.missing_tags(cert["CertificateArn"], tags) if tags else {}
        if missing:
            changed = True
            if not module.check_mode:
                acm.add_tags(cert["CertificateArn"], missing)
    elif module.check_mode:
        return result_for(None, domain, names, True, [], status="PENDING_VALIDATION")
    else:
        arn = acm.request(domain, names, tags)
        cert = wait_for_records(acm, arn)
        existing = [cert]
        changed = True
    if p["wait"] and not module.check_mode and cert.get("Status") != "ISSUED":
        cert = wait_for_issued(acm, cert["CertificateArn"], p["wait_timeout"])
    return result_for(cert, domain, names, changed, [c["CertificateArn"] for c in existing])


def ensure_absent(module: AutobuyAWSModule, acm: Acm, domain: str, names: tuple[str, ...]) -> dict[str, Any]:
    existing = acm.find(domain, names)
    arns = [c["CertificateArn"] for c in existing]
    if existing and not module.check_mode:
        for arn in arns:
            acm.delete(arn)
    status = "DELETED" if existing else "ABSENT"
    return result_for(existing[0] if existing else None, domain, names, bool(existing), arns, status)


def argument_spec() -> dict[str, Any]:
    return dict(
        domain_name=dict(type="str", required=True),
        subject_alternative_names=dict(type="list", elements="str", default=[]),
        validation_method=dict(type="str", choices=["DNS"], default="DNS"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
        tags=dict(type="dict"),
    )


def main() -> None:
    module = AutobuyAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        if p["wait_timeout"] < 0:
            raise ModuleFailure(f"wait_timeout must be >= 0, got {p['wait_timeout']}")
        domain = normalise_name(p["domain_name"])
        names = wanted_names(domain, [normalise_name(n) for n in p["subject_alternative_names"]])
        acm = Acm(module.client("acm"))
        if p["state"] == "present":
            result = ensure_present(module, acm, domain, names)
        else:
            result = ensure_absent(module, acm, domain, names)
    except Exception as exc:  # noqa: BLE001 - ModuleFailure as it is, botocore errors with their AWS code
        module.fail_on_error(exc, "ACM call failed")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
