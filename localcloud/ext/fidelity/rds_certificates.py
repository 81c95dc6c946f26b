"""RDS: the region's CA certificates, and the one each DB instance uses.

moto 5.2.5 has no ``DescribeCertificates`` (HTTP 500, not implemented), gives every DB
instance ``CACertificateIdentifier`` ``rds-ca-default`` (a name AWS never used) and no
``CertificateDetails``. An auditor reading them (prowler's
``rds_instance_certificate_expiration``) then finds no certificate for the instance and
reports it expired, which says nothing about the stack. Here, as on AWS:

- ``DescribeCertificates`` lists the three CAs RDS offers in every commercial region
  (``rds-ca-rsa2048-g1``, ``rds-ca-rsa4096-g1``, ``rds-ca-ecc384-g1``), with the validity
  AWS documents (``CertificateIdentifier`` narrows it; an unknown one is
  ``CertificateNotFound``); ``rds-ca-rsa2048-g1`` is the default (``CustomerOverride``
  false, AWS's default for new instances since January 2024);
- a DB instance created without a CA uses the default, and reports
  ``CertificateDetails`` (``CAIdentifier``, ``ValidTill``) of the CA it uses, also after
  ``ModifyDBInstance`` changes it; a CA that does not exist is refused
  (``CertificateNotFound``) at create and modify.

The dates are those of AWS's own DescribeCertificates example (SDK documentation, us-east-1): each
region's CA has its own certificate, issued the same days of May 2021 with the same
lifetimes (40 years for RSA2048, 100 for RSA4096 and ECC384), so they differ from the
region's by hours at most.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from moto.rds.exceptions import RDSClientError
from moto.rds.models import DBInstance, RDSBackend
from moto.rds.responses import RDSResponse

from localcloud import patching

DEFAULT_CA = "rds-ca-rsa2048-g1"
MOTO_DEFAULT_CA = "rds-ca-default"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# identifier -> (ValidFrom, ValidTill), as AWS documents them (us-east-1). No
# ``Thumbprint``: AWS's example redacts it, and an invented one would be a lie (it is
# optional in the API).
CERTIFICATES: dict[str, tuple[datetime, datetime]] = {
    "rds-ca-rsa2048-g1": (_utc("2021-05-25T22:34:57"), _utc("2061-05-25T23:34:57")),
    "rds-ca-rsa4096-g1": (_utc("2021-05-25T22:38:35"), _utc("2121-05-25T23:38:35")),
    "rds-ca-ecc384-g1": (_utc("2021-05-25T22:41:55"), _utc("2121-05-25T23:41:55")),
}


class CertificateNotFound(RDSClientError):
    def __init__(self, identifier: str) -> None:
        super().__init__("CertificateNotFound", f"Certificate {identifier} not found.")


def _known(identifier: str) -> str:
    if identifier not in CERTIFICATES:
        raise CertificateNotFound(identifier)
    return identifier


def certificate(identifier: str, partition: str, region: str) -> dict[str, Any]:
    valid_from, valid_till = CERTIFICATES[_known(identifier)]
    return {
        "CertificateIdentifier": identifier,
        "CertificateType": "CA",
        "ValidFrom": valid_from,
        "ValidTill": valid_till,
        "CertificateArn": f"arn:{partition}:rds:{region}::cert:{identifier}",
        "CustomerOverride": False,
    }


def describe_certificates(self: RDSResponse) -> Any:
    from moto.core.responses import ActionResult

    wanted = self.params.get("CertificateIdentifier")
    names = [_known(wanted.lower())] if wanted else list(CERTIFICATES)
    partition = self.backend.partition
    return ActionResult({"Certificates": [certificate(n, partition, self.region) for n in names],
                         "DefaultCertificateForNewLaunches": DEFAULT_CA})


def _certificate_details(self: DBInstance) -> dict[str, Any]:
    identifier = self.ca_certificate_identifier
    return {"CAIdentifier": identifier, "ValidTill": CERTIFICATES[identifier][1]}


def _use_default(instance: DBInstance) -> None:
    if instance.ca_certificate_identifier in (None, MOTO_DEFAULT_CA):
        instance.ca_certificate_identifier = DEFAULT_CA
    _known(instance.ca_certificate_identifier)


def _checked_create(original: Any) -> Any:
    def create_db_instance(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        wanted = db_kwargs.get("ca_certificate_identifier")
        if wanted:
            _known(wanted)
        return original(self, db_kwargs)
    return create_db_instance


def _checked_modify(original: Any) -> Any:
    def modify_db_instance(self: RDSBackend, db_instance_identifier: str,
                           db_kwargs: dict[str, Any]) -> DBInstance:
        wanted = db_kwargs.get("ca_certificate_identifier")
        if wanted:
            _known(wanted)
        return original(self, db_instance_identifier, db_kwargs)
    return modify_db_instance


def apply() -> None:
    patching.answer(RDSResponse, describe_certificates)
    patching.after_init(DBInstance, __name__, _use_default)
    DBInstance.certificate_details = property(_certificate_details)  # type: ignore[attr-defined]
    # Marks of their own: rds_database takes the default mark on create_db_instance
    # as "already applied" and would skip the twin's database.
    patching.wrap(RDSBackend, "create_db_instance", _checked_create, mark="_localcloud_ca_checked")
    patching.wrap(RDSBackend, "modify_db_instance", _checked_modify, mark="_localcloud_ca_checked")
