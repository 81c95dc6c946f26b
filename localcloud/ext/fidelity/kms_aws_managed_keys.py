"""KMS: the keys services create for themselves are AWS managed keys, rotated yearly.

When a service first encrypts with its default key (EBS with encryption by default,
DynamoDB, Secrets Manager...), AWS creates an *AWS managed* key ``alias/aws/<service>``:
``KeyManager`` ``AWS``, rotated by AWS every year (``GetKeyRotationStatus`` answers
true), never the account's to rotate. moto creates those keys as customer managed keys
without rotation, so an auditor (prowler's ``kms_cmk_rotation_enabled``) reported the
stack for not rotating a key AWS rotates. A key given an ``alias/aws/...`` alias by the
backend (users cannot: ``CreateAlias`` refuses reserved aliases) becomes AWS managed.
"""
from __future__ import annotations

from typing import Any

from localcloud import patching

PREFIX = "alias/aws/"


def _aws_managed(original: Any) -> Any:
    def create_alias(self: Any, target_key_id: str, alias_name: str) -> Any:
        alias = original(self, target_key_id, alias_name)
        if alias_name.startswith(PREFIX):
            key = self.keys[self.get_key_id(target_key_id)]
            key.key_manager = "AWS"
            key.key_rotation_status = True
        return alias

    return create_alias


def apply() -> None:
    """Install the gap fill (idempotent)."""
    from moto.kms.models import KmsBackend

    patching.wrap(KmsBackend, "create_alias", _aws_managed)
