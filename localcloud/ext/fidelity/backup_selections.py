"""AWS Backup: backup selections, UpdateBackupPlan, and plan names free again once deleted.

moto has backup vaults and plans but none of ``CreateBackupSelection``,
``GetBackupSelection``, ``ListBackupSelections``, ``DeleteBackupSelection`` or
``UpdateBackupPlan`` (HTTP 500), so ``amazon.aws.backup_selection`` cannot assign
resources to a plan and ``amazon.aws.backup_plan`` cannot change one; and a deleted
plan's name stayed taken, so a converge after teardown failed with
``AlreadyExistsException``. As on AWS:

* a selection belongs to a live plan (``ResourceNotFoundException`` otherwise), needs a
  ``SelectionName`` and an ``IamRoleArn`` (``InvalidParameterValueException``), and names
  resources by ARN (``Resources``, ``NotResources``, ``ListOfTags``, ``Conditions``);
* a plan that still has selections cannot be deleted (``InvalidRequestException``);
* ``UpdateBackupPlan`` replaces the plan document and gives the plan a new ``VersionId``.
"""
from __future__ import annotations

import json
from typing import Any

from moto.backup.exceptions import (
    AlreadyExistsException,
    InvalidParameterValueException,
    InvalidRequestException,
    ResourceNotFoundException,
)
from moto.backup.models import BackupBackend, Plan
from moto.backup.responses import BackupResponse
from moto.core.utils import unix_time
from moto.moto_api._internal import mock_random

from localcloud import patching

SELECTION_FIELDS = ("SelectionName", "IamRoleArn", "Resources", "ListOfTags",
                    "NotResources", "Conditions")


def _selections(backend: BackupBackend) -> dict[str, dict[str, dict[str, Any]]]:
    """plan id -> selection id -> selection, kept on the region's backend."""
    return backend.__dict__.setdefault("_localcloud_selections", {})


def _live_plan(backend: BackupBackend, plan_id: str) -> Plan:
    plan = backend.plans.get(plan_id)
    if plan is None or plan.deletion_date is not None:
        raise ResourceNotFoundException(msg=f"Failed reading Backup plan {plan_id}")
    return plan


def _selection(backend: BackupBackend, plan_id: str, selection_id: str) -> dict[str, Any]:
    _live_plan(backend, plan_id)
    selection = _selections(backend).get(plan_id, {}).get(selection_id)
    if selection is None:
        raise ResourceNotFoundException(
            msg=f"Failed reading backup selection {selection_id} of plan {plan_id}")
    return selection


def create_backup_selection(self: BackupResponse) -> str:
    plan_id = self.uri_match["backupPlanId"]
    body = json.loads(self.body or "{}")
    wanted = body.get("BackupSelection") or {}
    for field in ("SelectionName", "IamRoleArn"):
        if not wanted.get(field):
            raise InvalidParameterValueException(msg=f"BackupSelection.{field} is required")
    backend = self.backup_backend
    _live_plan(backend, plan_id)
    selections = _selections(backend).setdefault(plan_id, {})
    if any(s["BackupSelection"]["SelectionName"] == wanted["SelectionName"]
           for s in selections.values()):
        raise AlreadyExistsException(
            msg=f"Backup selection {wanted['SelectionName']} already exists in plan {plan_id}")
    selection = {
        "SelectionId": str(mock_random.uuid4()),
        "BackupPlanId": plan_id,
        "CreationDate": unix_time(),
        "CreatorRequestId": body.get("CreatorRequestId"),
        "BackupSelection": {k: wanted[k] for k in SELECTION_FIELDS if k in wanted},
    }
    selections[selection["SelectionId"]] = selection
    return json.dumps({k: selection[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")})


def get_backup_selection(self: BackupResponse) -> str:
    selection = _selection(self.backup_backend, self.uri_match["backupPlanId"],
                           self.uri_match["selectionId"])
    return json.dumps({k: v for k, v in selection.items() if v is not None})


def list_backup_selections(self: BackupResponse) -> str:
    plan_id = self.uri_match["backupPlanId"]
    backend = self.backup_backend
    _live_plan(backend, plan_id)
    listed = []
    for selection in _selections(backend).get(plan_id, {}).values():
        item = {k: selection[k] for k in ("SelectionId", "BackupPlanId", "CreationDate",
                                           "CreatorRequestId") if selection[k] is not None}
        item["SelectionName"] = selection["BackupSelection"]["SelectionName"]
        item["IamRoleArn"] = selection["BackupSelection"]["IamRoleArn"]
        listed.append(item)
    return json.dumps({"BackupSelectionsList": listed})


def delete_backup_selection(self: BackupResponse) -> str:
    plan_id = self.uri_match["backupPlanId"]
    selection = _selection(self.backup_backend, plan_id, self.uri_match["selectionId"])
    del _selections(self.backup_backend)[plan_id][selection["SelectionId"]]
    return "{}"


def update_backup_plan(self: BackupResponse) -> str:
    plan_id = self.uri_match["backupPlanId"]
    document = (json.loads(self.body or "{}")).get("BackupPlan")
    if not document or not document.get("Rules"):
        raise InvalidParameterValueException(msg="BackupPlan with Rules is required")
    backend = self.backup_backend
    plan = _live_plan(backend, plan_id)
    if document.get("BackupPlanName") != plan.backup_plan.get("BackupPlanName"):
        raise InvalidParameterValueException(msg="BackupPlanName cannot be changed")
    # A fresh Plan fills the rule defaults (schedule, windows, rule ids) as on create.
    fresh = Plan(backup_plan=document, creator_request_id=plan.creator_request_id,
                 backend=backend)
    plan.backup_plan = fresh.backup_plan
    plan.advanced_backup_settings = fresh.advanced_backup_settings
    plan.version_id = fresh.version_id
    return json.dumps(plan.to_dict())


def apply() -> None:
    """Install the gap fills (idempotent)."""
    patching.answer(BackupResponse, create_backup_selection, get_backup_selection,
                    list_backup_selections, delete_backup_selection, update_backup_plan)
    if getattr(BackupBackend.delete_backup_plan, "_localcloud", False):
        return

    delete_plan = BackupBackend.delete_backup_plan

    def delete_backup_plan(self: BackupBackend, backup_plan_id: str) -> Any:
        if _selections(self).get(backup_plan_id):
            raise InvalidRequestException(
                msg="Related backup plan selections must be deleted prior to backup "
                    "plan deletion")
        return delete_plan(self, backup_plan_id)

    def create_backup_plan(self: BackupBackend, backup_plan: dict[str, Any],
                           backup_plan_tags: dict[str, str] | None,
                           creator_request_id: str) -> Plan:
        # moto's own, with the name check limited to plans not deleted.
        name = backup_plan.get("BackupPlanName")
        if any(p.backup_plan.get("BackupPlanName") == name and p.deletion_date is None
               for p in list(self.plans.values())):
            raise AlreadyExistsException(
                msg="Backup plan with the same plan document already exists")
        plan = Plan(backup_plan=backup_plan, creator_request_id=creator_request_id,
                    backend=self)
        if backup_plan_tags:
            self.tag_resource(plan.backup_plan_arn, backup_plan_tags)
        self.plans[plan.backup_plan_id] = plan
        return plan

    delete_backup_plan._localcloud = True  # type: ignore[attr-defined]
    BackupBackend.delete_backup_plan = delete_backup_plan  # type: ignore[method-assign]
    BackupBackend.create_backup_plan = create_backup_plan  # type: ignore[method-assign]
