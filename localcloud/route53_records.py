"""The records in the local cloud's Route 53 hosted zones, for services that check DNS.

ACM issues a certificate (``acm_dns_validation``) and SES verifies a domain identity and
its DKIM tokens (``ses_dns_verification``) only once the records they asked for are in a
hosted zone of the same account, as on AWS. Both read the zones here, in one form: names
and values in lower case without the trailing dot, a TXT value without its quotes.
"""
from __future__ import annotations

from moto.route53.models import route53_backends


def normalised(name: str) -> str:
    """A DNS name as the records here hold it: lower case, no trailing dot."""
    return name.lower().rstrip(".")


def records(account_id: str, kind: str, partition: str | None = None) -> set[tuple[str, str]]:
    """``(name, value)`` of every record of type ``kind`` (``CNAME``, ``TXT``...) in the
    account's hosted zones: of ``partition``, or of every partition the account has zones in."""
    accounts = route53_backends[account_id]
    backends = [accounts[partition]] if partition else list(accounts.values())
    found: set[tuple[str, str]] = set()
    for backend in backends:
        for zone in list(backend.zones.values()):
            for record in list(zone.rrsets):
                if record.type == kind:
                    found.update((normalised(record.name),
                                  normalised(str(v).strip('"') if kind == "TXT" else str(v)))
                                 for v in record.records)
    return found
