"""CloudFront: response headers policies, and distributions that keep what a site needs.

moto has no ``*ResponseHeadersPolicy*`` actions (a request gets no route), and a
distribution forgets an origin's ``OriginAccessControlId`` and ``S3OriginConfig`` and every behaviour's
``FunctionAssociations`` (read back as none), so a private S3 origin behind origin access
control, or SPA routing by a CloudFront Function, cannot be provisioned or checked. Here:

- ``CreateResponseHeadersPolicy``, ``GetResponseHeadersPolicy``,
  ``GetResponseHeadersPolicyConfig``, ``ListResponseHeadersPolicies`` (``Type`` custom or
  managed; AWS's managed ``Managed-SecurityHeadersPolicy`` is listed), ``Update...`` and
  ``Delete...`` with ETags (``IfMatch`` required and checked, ``PreconditionFailed`` when
  stale; a name is unique: ``ResponseHeadersPolicyAlreadyExists``; a policy a distribution
  uses cannot be deleted: ``ResponseHeadersPolicyInUse``). An update whose configuration
  equals the stored one changes neither the ETag nor ``LastModifiedTime``.
- origins keep ``OriginAccessControlId`` and ``S3OriginConfig``; default and path behaviours keep
  ``FunctionAssociations``.
"""
from __future__ import annotations

import copy
import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from moto.cloudfront import urls as cloudfront_urls
from moto.cloudfront.models import CloudFrontBackend, DefaultCacheBehaviour, Origin
from moto.cloudfront.responses import CloudFrontResponse
from moto.cloudfront.exceptions import CloudFrontException

_MARK = "_localcloud_response_headers_policies"
_BASE = "{0}/2020-05-31/response-headers-policy"
# AWS's managed security headers policy (its documented id and configuration).
_MANAGED = {
    "Id": "67f7725c-6f97-4210-82d7-5512b31e9d03",
    "Config": {
        "Name": "Managed-SecurityHeadersPolicy",
        "Comment": "Adds a set of security headers to every response",
        "SecurityHeadersConfig": {
            "XSSProtection": {"Override": False, "Protection": True, "ModeBlock": True},
            "FrameOptions": {"Override": False, "FrameOption": "SAMEORIGIN"},
            "ReferrerPolicy": {"Override": False, "ReferrerPolicy": "strict-origin-when-cross-origin"},
            "ContentTypeOptions": {"Override": True},
            "StrictTransportSecurity": {"Override": False, "IncludeSubdomains": False,
                                        "Preload": False, "AccessControlMaxAgeSec": 31536000},
        },
    },
}


class CloudFrontError(CloudFrontException):
    """An error in CloudFront's shape; its HTTP status comes from the service model."""

    def __init__(self, error: str, message: str, status: int = 400) -> None:
        super().__init__(error, message)


def _policies(backend: CloudFrontBackend) -> dict[str, dict[str, Any]]:
    if not hasattr(backend, _MARK):
        setattr(backend, _MARK, {})
    return getattr(backend, _MARK)


def _policy_view(policy: dict[str, Any]) -> dict[str, Any]:
    return {"Id": policy["Id"], "LastModifiedTime": policy["LastModifiedTime"],
            "ResponseHeadersPolicyConfig": copy.deepcopy(policy["Config"])}


def _find(backend: CloudFrontBackend, policy_id: str) -> dict[str, Any]:
    policy = _policies(backend).get(policy_id)
    if policy is None:
        raise CloudFrontError("NoSuchResponseHeadersPolicy",
                              "The response headers policy does not exist.", 404)
    return policy


def _in_use(backend: CloudFrontBackend, policy_id: str) -> bool:
    for distribution in backend.distributions.values():
        config = distribution.distribution_config.__dict__  # moto keeps AWS's names there
        behaviours = [config.get("DefaultCacheBehavior"),
                      *((config.get("CacheBehaviors") or {}).get("Items") or [])]
        if any(getattr(b, "response_headers_policy_id", None) == policy_id for b in behaviours):
            return True
    return False


def create_response_headers_policy(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    config = self._get_param("ResponseHeadersPolicyConfig", {})
    if not config.get("Name"):
        raise CloudFrontError("InvalidArgument", "A response headers policy needs a Name.")
    policies = _policies(self.backend)
    if any(p["Config"]["Name"] == config["Name"] for p in policies.values()):
        raise CloudFrontError("ResponseHeadersPolicyAlreadyExists",
                              f"A response headers policy named {config['Name']} already exists.", 409)
    policy = {"Id": str(uuid.uuid4()), "Config": config, "ETag": uuid.uuid4().hex[:14].upper(),
              "LastModifiedTime": datetime.now(UTC)}
    policies[policy["Id"]] = policy
    return ActionResult({"ResponseHeadersPolicy": _policy_view(policy), "ETag": policy["ETag"],
                         "Location": f"https://cloudfront.amazonaws.com/2020-05-31/response-headers-policy/{policy['Id']}"})


def get_response_headers_policy(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    policy_id = self._get_param("Id")
    if policy_id == _MANAGED["Id"]:
        return ActionResult({"ResponseHeadersPolicy": {
            "Id": _MANAGED["Id"], "LastModifiedTime": datetime(2021, 11, 2, tzinfo=UTC),
            "ResponseHeadersPolicyConfig": _MANAGED["Config"]}, "ETag": "E23ZP02F085DFQ"})
    policy = _find(self.backend, policy_id)
    return ActionResult({"ResponseHeadersPolicy": _policy_view(policy), "ETag": policy["ETag"]})


def get_response_headers_policy_config(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    policy = _find(self.backend, self._get_param("Id"))
    return ActionResult({"ResponseHeadersPolicyConfig": copy.deepcopy(policy["Config"]),
                         "ETag": policy["ETag"]})


def list_response_headers_policies(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    kind = self._get_param("Type")
    items = []
    if kind in (None, "", "managed"):
        items.append({"Type": "managed", "ResponseHeadersPolicy": {
            "Id": _MANAGED["Id"], "LastModifiedTime": datetime(2021, 11, 2, tzinfo=UTC),
            "ResponseHeadersPolicyConfig": _MANAGED["Config"]}})
    if kind in (None, "", "custom"):
        items += [{"Type": "custom", "ResponseHeadersPolicy": _policy_view(p)}
                  for p in _policies(self.backend).values()]
    return ActionResult({"ResponseHeadersPolicyList": {"MaxItems": 100, "Quantity": len(items),
                                                       "Items": items}})


def _check_etag(self: CloudFrontResponse, policy: dict[str, Any]) -> None:
    if_match = self.headers.get("If-Match")
    if not if_match:
        raise CloudFrontError("InvalidIfMatchVersion", "The If-Match version is missing or not valid.")
    if if_match != policy["ETag"]:
        raise CloudFrontError("PreconditionFailed",
                              "The If-Match version does not match the current version.", 412)


def update_response_headers_policy(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    policy = _find(self.backend, self._get_param("Id"))
    _check_etag(self, policy)
    config = self._get_param("ResponseHeadersPolicyConfig", {})
    others = [p for p in _policies(self.backend).values() if p is not policy]
    if any(p["Config"]["Name"] == config.get("Name") for p in others):
        raise CloudFrontError("ResponseHeadersPolicyAlreadyExists",
                              f"A response headers policy named {config.get('Name')} already exists.", 409)
    if config != policy["Config"]:
        policy.update(Config=config, ETag=uuid.uuid4().hex[:14].upper(), LastModifiedTime=datetime.now(UTC))
    return ActionResult({"ResponseHeadersPolicy": _policy_view(policy), "ETag": policy["ETag"]})


def delete_response_headers_policy(self: CloudFrontResponse) -> Any:
    from moto.core.responses import EmptyResult

    policy = _find(self.backend, self._get_param("Id"))
    _check_etag(self, policy)
    if _in_use(self.backend, policy["Id"]):
        raise CloudFrontError("ResponseHeadersPolicyInUse",
                              "Cannot delete the response headers policy: a distribution uses it.", 409)
    del _policies(self.backend)[policy["Id"]]
    return EmptyResult()


def _keep_origin_access_control(original: Any) -> Any:
    @functools.wraps(original)
    def __init__(self: Origin, origin: dict[str, Any]) -> None:
        original(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        if "S3OriginConfig" in origin:  # read back as none, like the access control
            self.s3_origin_config = {"OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity") or ""}
    return __init__


def _keep_function_associations(original: Any) -> Any:
    @functools.wraps(original)
    def __init__(self: DefaultCacheBehaviour, config: dict[str, Any]) -> None:
        original(self, config)
        associations = config.get("FunctionAssociations") or {}
        items = associations.get("Items") or []
        if isinstance(items, dict):  # one item, as the XML parser gives it
            items = [items.get("FunctionAssociation", items)]
        self.function_associations = {"Quantity": len(items), "Items": items} if items else {"Quantity": 0}
    return __init__


def apply() -> None:
    if getattr(CloudFrontResponse, _MARK, False):
        return
    for name, handler in {
        "create_response_headers_policy": create_response_headers_policy,
        "get_response_headers_policy": get_response_headers_policy,
        "get_response_headers_policy_config": get_response_headers_policy_config,
        "list_response_headers_policies": list_response_headers_policies,
        "update_response_headers_policy": update_response_headers_policy,
        "delete_response_headers_policy": delete_response_headers_policy,
    }.items():
        setattr(CloudFrontResponse, name, handler)
    cloudfront_urls.url_paths[_BASE + "$"] = CloudFrontResponse.dispatch
    cloudfront_urls.url_paths[_BASE + "/(?P<policy_id>[^/]+)$"] = CloudFrontResponse.dispatch
    cloudfront_urls.url_paths[_BASE + "/(?P<policy_id>[^/]+)/config$"] = CloudFrontResponse.dispatch
    Origin.__init__ = _keep_origin_access_control(Origin.__init__)  # type: ignore[method-assign]
    DefaultCacheBehaviour.__init__ = _keep_function_associations(  # type: ignore[method-assign]
        DefaultCacheBehaviour.__init__)
    setattr(CloudFrontResponse, _MARK, True)
