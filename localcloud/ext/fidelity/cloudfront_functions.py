"""CloudFront Functions: update, publish, and the two stages a function has.

moto 5.2.5 creates, describes, gets and deletes a function but has no ``UpdateFunction``
and no ``PublishFunction`` (a request gets no route), ignores ``Stage`` (there is only one
copy of the code) and never changes a function's ETag. A distribution may only use a
published (``LIVE``) function, and a changed function reaches viewers only once it is
published again, so a tier that manages SPA routing by a function cannot be written or
checked against moto as it is. Here, as on AWS:

- a function has a ``DEVELOPMENT`` stage (what ``Create``/``UpdateFunction`` write) and,
  once published, a ``LIVE`` stage (a copy of DEVELOPMENT at ``PublishFunction``);
- ``DescribeFunction``/``GetFunction`` with ``Stage=LIVE`` read the live copy
  (``NoSuchFunctionExists`` before the first publish), without a stage DEVELOPMENT;
- ``UpdateFunction`` and ``PublishFunction`` need the current ETag in ``IfMatch``
  (``PreconditionFailed`` when stale); both give the function a new ETag; the status is
  ``UNPUBLISHED`` after a create or update and ``UNASSOCIATED`` after a publish.
"""
from __future__ import annotations

import copy
import functools
from typing import Any

from moto.cloudfront import urls as cloudfront_urls
from moto.cloudfront.exceptions import CloudFrontException, NoSuchFunctionExists
from moto.cloudfront.models import CloudFrontFunction, random_id
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.utils import utcnow

_MARK = "_localcloud_function_stages"
_LIVE = "_localcloud_live"


class PreconditionFailed(CloudFrontException):
    def __init__(self) -> None:
        super().__init__("PreconditionFailed", "The If-Match version does not match the current version.")


def _summary(function: CloudFrontFunction, stage: str) -> dict[str, Any]:
    if stage != "LIVE":
        return function.function_summary
    live = getattr(function, _LIVE, None)
    if live is None:
        raise NoSuchFunctionExists(function.name)
    return live["summary"]


def _function(self: CloudFrontResponse) -> CloudFrontFunction:
    return self.backend.describe_function(name=self._get_param("Name"))


def _stage(self: CloudFrontResponse) -> str:
    return (self._get_param("Stage") or "DEVELOPMENT").upper()


def _check_etag(self: CloudFrontResponse, function: CloudFrontFunction) -> None:
    if self._get_param("IfMatch") != function.etag:
        raise PreconditionFailed()


def describe_function(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    function = _function(self)
    stage = _stage(self)
    summary = _summary(function, stage)
    etag = function.etag if stage != "LIVE" else getattr(function, _LIVE)["etag"]
    return ActionResult({"FunctionSummary": summary, "ETag": etag})


def get_function(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    function = _function(self)
    if _stage(self) == "LIVE":
        _summary(function, "LIVE")
        live = getattr(function, _LIVE)
        return ActionResult({"FunctionCode": live["code"], "ETag": live["etag"],
                             "ContentType": "application/octet-stream"})
    return ActionResult({"FunctionCode": function.code, "ETag": function.etag,
                         "ContentType": "application/octet-stream"})


def update_function(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    function = _function(self)
    _check_etag(self, function)
    function.config = self._get_param("FunctionConfig", {})
    function.code = self._get_param("FunctionCode")
    function.status = "UNPUBLISHED"
    function.last_modified_time = utcnow()
    function.etag = random_id()
    return ActionResult({"FunctionSummary": function.function_summary, "ETag": function.etag})


def publish_function(self: CloudFrontResponse) -> Any:
    from moto.core.responses import ActionResult

    function = _function(self)
    _check_etag(self, function)
    function.status = "UNASSOCIATED"
    function.etag = random_id()
    summary = copy.deepcopy(function.function_summary)
    summary["FunctionMetadata"]["Stage"] = "LIVE"
    setattr(function, _LIVE, {"summary": summary, "code": function.code, "etag": function.etag})
    return ActionResult({"FunctionSummary": summary})


def _etag_checked_delete(original: Any) -> Any:
    @functools.wraps(original)
    def delete_function(self: CloudFrontResponse) -> Any:
        function = _function(self)
        if self._get_param("IfMatch") and self._get_param("IfMatch") != function.etag:
            raise PreconditionFailed()
        return original(self)
    return delete_function


def apply() -> None:
    if getattr(CloudFrontResponse, _MARK, False):
        return
    CloudFrontResponse.describe_function = describe_function  # type: ignore[method-assign]
    CloudFrontResponse.get_function = get_function  # type: ignore[method-assign]
    CloudFrontResponse.update_function = update_function  # type: ignore[attr-defined]
    CloudFrontResponse.publish_function = publish_function  # type: ignore[attr-defined]
    CloudFrontResponse.delete_function = _etag_checked_delete(  # type: ignore[method-assign]
        CloudFrontResponse.delete_function)
    cloudfront_urls.url_paths["{0}/2020-05-31/function/(?P<function_name>[^/]+)/publish$"] = \
        CloudFrontResponse.dispatch
    setattr(CloudFrontResponse, _MARK, True)
