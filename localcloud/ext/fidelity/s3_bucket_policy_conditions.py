"""S3: a bucket policy statement with a condition applies only when the condition holds.

moto 5.2.5 checks a bucket's policy on every object request, but evaluates each statement
with no request context, so a statement with any ``Condition`` fails its condition check
and comes out as an explicit *deny* — an ``Allow`` too. A site bucket whose only grant is
``s3:GetObject`` for CloudFront with ``AWS:SourceArn`` (origin access control), or which
denies requests without TLS (``aws:SecureTransport: false``), then refuses even its owner's
uploads (HTTP 403), which AWS accepts (the owner's own IAM permissions grant them, and the
conditions do not hold for them).

Here a statement with a ``Condition`` is neutral: it neither grants nor denies a request
made to the local cloud. That is exact for the conditions a site bucket uses: the local
cloud stands in for AWS's TLS endpoints (``aws:SecureTransport`` is true), and its callers
are the account's own principals, not a CloudFront distribution (``AWS:SourceArn``).
Statements without a condition keep moto's evaluation.
"""
from __future__ import annotations

import copy
import functools
import json
from typing import Any

from moto.s3.models import FakeBucket

_MARK = "_localcloud_policy_conditions"


def _without_conditioned(policy: bytes | str) -> str | None:
    document = json.loads(policy.decode() if isinstance(policy, bytes) else policy)
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not s.get("Condition")]
    if not kept:
        return None
    document = copy.deepcopy(document)
    document["Statement"] = kept
    return json.dumps(document)


def _conditions_respected(original: Any) -> Any:
    @functools.wraps(original)
    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        from moto.iam.access_control import IAMPolicy, PermissionResult

        if self.policy is None:
            return original(self, action, resource)
        kept = _without_conditioned(self.policy)
        if kept is None:
            return PermissionResult.NEUTRAL
        return IAMPolicy(kept).is_action_permitted(action, resource)
    return get_permission


def apply() -> None:
    if getattr(FakeBucket, _MARK, False):
        return
    FakeBucket.get_permission = _conditions_respected(FakeBucket.get_permission)  # type: ignore[method-assign]
    setattr(FakeBucket, _MARK, True)
