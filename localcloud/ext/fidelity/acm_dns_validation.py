"""ACM: a requested certificate is issued only once DNS validation could succeed.

moto issues every requested certificate ``MOTO_ACM_VALIDATION_WAIT`` seconds
after the request, whether or not anyone wrote its validation record. Here an
``AMAZON_ISSUED`` certificate stays ``PENDING_VALIDATION`` until
``LOCALCLOUD_ACM_VALIDATION_SECONDS`` (default 5) have passed since the request
AND every validation CNAME it asks for exists, with the right value, in a
Route 53 hosted zone of the local cloud (same account) — the same contract as
AWS, so a play that forgets the records waits forever, as it would on AWS.
"""
from __future__ import annotations

from moto.acm.models import CertBundle
from moto.route53.models import route53_backends

from localcloud import settings
from localcloud.timed import installed, wait_after_create


def _norm(name: str) -> str:
    return name.lower().rstrip(".")


def validation_records(cert: CertBundle) -> set[tuple[str, str]]:
    """``(name, value)`` of the CNAMEs the certificate's DNS validation needs."""
    options = cert.describe()["Certificate"].get("DomainValidationOptions", [])
    return {
        (_norm(o["ResourceRecord"]["Name"]), _norm(o["ResourceRecord"]["Value"]))
        for o in options
        if "ResourceRecord" in o
    }


def _cnames_in_route53(account_id: str, partition: str) -> set[tuple[str, str]]:
    backend = route53_backends[account_id][partition]
    found = set()
    for zone in list(backend.zones.values()):
        for record in list(zone.rrsets):
            if record.type == "CNAME":
                found.update((_norm(record.name), _norm(str(v))) for v in record.records)
    return found


def records_published(cert: CertBundle) -> bool:
    """True when every validation CNAME of ``cert`` is in a Route 53 zone."""
    _, partition, _, _, account_id, _ = cert.arn.split(":", 5)
    needed = validation_records(cert)
    return bool(needed) and needed <= _cnames_in_route53(account_id, partition)


def _check(self: CertBundle) -> None:
    """moto's check without its unconditional issue: only expiry is decided here."""
    from moto.core.utils import utcnow

    if self._not_valid_after(self._cert) <= utcnow():
        self.status = "EXPIRED"


def apply() -> None:
    if installed(CertBundle, "status"):
        return
    wait_after_create(CertBundle, "status", "PENDING_VALIDATION", "ISSUED",
                      settings.acm_validation_seconds, created="PENDING_VALIDATION",
                      condition=records_published)
    CertBundle.check = _check  # type: ignore[method-assign]
