"""STS: the local cloud's default caller is an IAM user, with an IAM user's ARN.

Credentials moto does not know (the local cloud's ``localcloud``/``localcloud`` keys,
the playbooks' and tests') make ``GetCallerIdentity`` answer
``arn:aws:sts::ACCOUNT:user/moto``, an ARN AWS never returns: an IAM user's is
``arn:aws:iam::ACCOUNT:user/NAME``. The stack writes the caller into the secrets'
resource policies (``aws:PrincipalArn``), and auditors such as prowler accept only IAM
role/user ARNs there. The default caller is answered as the IAM user ``moto``; callers
moto knows (its IAM users' keys, assumed roles) are unchanged.
"""
from __future__ import annotations

import re
from typing import Any

_DEFAULT = re.compile(r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):user/moto$")


def apply() -> None:
    """Install the gap fill (idempotent)."""
    from moto.sts.models import STSBackend

    original = STSBackend.get_caller_identity
    if getattr(original, "_localcloud", False):
        return

    def get_caller_identity(self: STSBackend, *args: Any, **kwargs: Any) -> tuple[str, str, str]:
        user_id, arn, account_id = original(self, *args, **kwargs)
        match = _DEFAULT.match(arn)
        if match:
            arn = f"arn:{match['partition']}:iam::{match['account']}:user/moto"
        return user_id, arn, account_id

    get_caller_identity._localcloud = True  # type: ignore[attr-defined]
    STSBackend.get_caller_identity = get_caller_identity  # type: ignore[method-assign]
