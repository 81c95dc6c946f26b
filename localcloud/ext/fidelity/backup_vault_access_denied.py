"""AWS Backup: a vault that does not exist is answered with AccessDeniedException.

AWS answers ``DescribeBackupVault`` of a missing vault with HTTP 403
``AccessDeniedException`` ("Insufficient privileges to perform this action."), even to a
caller allowed to describe every vault (aws/aws-sdk-js#2625), and
``amazon.aws.backup_vault`` relies on it: it reads that error as "no such vault" and
fails on any other. moto answers ``ResourceNotFoundException``, so the module could not
create a vault. Listing (``ListBackupVaults``) is unchanged.
"""
from __future__ import annotations

from typing import Any

from moto.backup.models import BackupBackend
from moto.core.exceptions import JsonRESTError

from localcloud import patching


class AccessDeniedException(JsonRESTError):
    code = 403

    def __init__(self) -> None:
        super().__init__("AccessDeniedException", "Insufficient privileges to perform this action.")


def _denied_when_missing(original: Any) -> Any:
    def describe_backup_vault(self: BackupBackend, backup_vault_name: str) -> Any:
        if backup_vault_name not in self.vaults:
            raise AccessDeniedException()
        return original(self, backup_vault_name)

    return describe_backup_vault


def apply() -> None:
    """Install the gap fill (idempotent)."""
    patching.wrap(BackupBackend, "describe_backup_vault", _denied_when_missing)
