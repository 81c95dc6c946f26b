"""ACM: requested certificates are real, signed by the twin's CA (``LOCALCLOUD_TWIN=on``).

moto makes a self-signed RSA certificate for a requested name and hands out a chain
with a made-up Amazon root. With the twin on, the certificate of ``RequestCertificate``
is issued by the twin's CA (:mod:`localcloud.twin.ca`) for the domain name and every
subject alternative name, and the chain is that CA's certificate: ``GetCertificate``
returns what the load balancer serves, and a client that trusts the twin's CA
(``ca_cert`` of ``GET /localcloud/twin``) verifies it. DNS validation still decides
when it is ``ISSUED`` (``acm_dns_validation``). Imported certificates are kept as given.
"""
from __future__ import annotations

import functools
from typing import Any

from moto.acm.models import CertBundle

from localcloud import settings, twin
from localcloud.twin.ca import CA_NAME


def _issue(bundle: CertBundle, names: list[str]) -> None:
    running = twin.current()
    if running is None:
        return
    issued = running.ca.issue(names)
    bundle.cert, bundle.key = issued.cert_pem, issued.key_pem
    bundle.chain = running.ca.cert_pem
    bundle._key = bundle.validate_pk()  # noqa: SLF001 - moto's parsed copies
    bundle._cert = bundle.validate_certificate()  # noqa: SLF001
    bundle.issuer_common_name = CA_NAME


def apply() -> None:
    if not settings.twin() or getattr(CertBundle.generate_cert, "_localcloud", False):
        return
    original = CertBundle.generate_cert.__func__  # type: ignore[attr-defined]

    @functools.wraps(original)
    def generate_cert(cls: type[CertBundle], domain_name: str, account_id: str, region: str,
                      sans: list[str] | None = None, *args: Any, **kwargs: Any) -> CertBundle:
        bundle = original(cls, domain_name, account_id, region, sans, *args, **kwargs)
        _issue(bundle, [domain_name, *(sans or [])])
        return bundle

    generate_cert._localcloud = True  # type: ignore[attr-defined]
    CertBundle.generate_cert = classmethod(generate_cert)  # type: ignore[assignment,method-assign]
