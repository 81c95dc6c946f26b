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

from localcloud import settings
from localcloud.route53_records import normalised, records
from localcloud.timed import installed, wait_after_create


def validation_records(cert: CertBundle) -> set[tuple[str, str]]:
    """``(name, value)`` of the CNAMEs the certificate's DNS validation needs."""
    options = cert.describe()["Certificate"].get("DomainValidationOptions", [])
    return {
        (normalised(o["ResourceRecord"]["Name"]), normalised(o["ResourceRecord"]["Value"]))
        for o in options
        if "ResourceRecord" in o
    }


def records_published(cert: CertBundle) -> bool:
    """True when every validation CNAME of ``cert`` is in a Route 53 zone."""
    _, partition, _, _, account_id, _ = cert.arn.split(":", 5)
    needed = validation_records(cert)
    return bool(needed) and needed <= records(account_id, "CNAME", partition)


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
