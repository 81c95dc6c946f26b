# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module object every AutoBuy Guard AWS module is built on, written once.

:class:`AutobuyAWSModule` is ``AnsibleModule`` with the collection's AWS connection
options (``autobuy_aws.AWS_COMMON_ARGUMENT_SPEC``, documented by the ``autobuy_aws`` doc
fragment) added to the module's own argument spec, a client from those options and AWS
errors reported with their code - what amazon.aws's ``AnsibleAWSModule`` does for its
modules, on this collection's ``autobuy_aws`` plumbing (see that doc fragment's notes for
why). :class:`ModuleFailure` is the one error a module raises for input or state it
cannot act on; its message is reported as it is.

It lives apart from ``autobuy_aws``, which controller-side plugins import too and which
depends on nothing from ansible-core.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import (
    AWS_COMMON_ARGUMENT_SPEC,
    fail_on_aws_error,
    module_client,
)


class ModuleFailure(Exception):
    """A failure to report with fail_json (message is user-readable)."""


class AutobuyAWSModule(AnsibleModule):
    """``AnsibleModule`` taking the AWS connection options besides ``argument_spec``."""

    def __init__(self, argument_spec: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(argument_spec={**argument_spec, **AWS_COMMON_ARGUMENT_SPEC}, **kwargs)

    def client(self, service: str) -> Any:
        """A boto3 client from the task's connection options; fails the task on bad ones."""
        return module_client(self, service)

    def fail_on_error(self, exc: BaseException, what: str, **result: Any) -> None:
        """fail_json for an error of the task: a :class:`ModuleFailure` with its message as
        it is; a botocore error naming its AWS code (``WHAT (Code): message``, plus
        ``result``). Anything else is raised again."""
        if isinstance(exc, ModuleFailure):
            self.fail_json(msg=str(exc))
        fail_on_aws_error(self, exc, what, **result)

    def run(self, service: str, ensure: Callable[[Any, dict[str, Any], bool], dict[str, Any]],
            what: str) -> None:
        """Exit with ``ensure(client, params, check_mode)``'s result for a client of
        ``service``; an error fails the task as :meth:`fail_on_error` says (``what`` names
        the task's object)."""
        try:
            result = ensure(self.client(service), self.params, self.check_mode)
        except Exception as exc:  # noqa: BLE001 - ModuleFailure as it is, botocore errors with their AWS code
            self.fail_on_error(exc, what)
            raise
        self.exit_json(**result)
