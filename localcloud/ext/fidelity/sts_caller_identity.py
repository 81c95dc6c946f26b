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

from localcloud import patching

_DEFAULT = re.compile(r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):user/moto$")


def _user_moto(original: Any) -> Any:
    def get_caller_identity(self: Any, *args: Any, **kwargs: Any) -> tuple[str, str, str]:
        user_id, arn, account_id = original(self, *args, **kwargs)
        match = _DEFAULT.match(arn)
        if match:
            arn = f"arn:{match['partition']}:iam::{match['account']}:user/moto"
        return user_id, arn, account_id

    return get_caller_identity


def apply() -> None:
    """Install the gap fill (idempotent)."""
    from moto.sts.models import STSBackend

    patching.wrap(STSBackend, "get_caller_identity", _user_moto)
