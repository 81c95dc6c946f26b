"""The patches of moto, in the order they are applied, and the moto version of each.

Each module in ``localcloud/ext/fidelity/`` (what AWS does and moto does not) and
``localcloud/ext/speed/`` (moto made fast enough for our load, answers unchanged) fills
one gap and exposes ``apply()``. :data:`PATCHES` lists every one of them, explicitly:
a new patch is a new module plus one line here (a module missing from the list stops
the server, so none is left out silently).

Order: every fidelity patch first, then every speed patch, so the speed patches sit on
top of the behaviour they must keep and switching them off removes only that top layer.
Where two patches wrap the same moto function, the later one wraps the earlier (both
run after moto's own code; neither reads what the other sets):

* ``elbv2_load_balancer_attributes`` and ``elbv2_slow_provision``: ``FakeLoadBalancer.__init__``;
* ``rds_gp3_defaults`` and ``rds_slow_create``: ``DBInstance.__init__``;
* ``ec2_launch_template_instances`` and ``ec2_containers``: ``InstanceBackend.run_instances``
  (the container starts for an instance that already carries its template's settings);
* ``rds_database`` replaces the timed ``DBInstance.status`` of ``rds_slow_create`` with one
  that also waits for the twin's database to answer and for a restore (``rds_backups``) to
  fill it (``LOCALCLOUD_TWIN=on`` only); ``rds_backups`` wraps ``create_db_instance`` /
  ``delete_db_instance`` outside rds_database's;
* ``dynamodb_point_in_time`` and then ``dynamodb_atomic_writes`` wrap the mutating
  ``DynamoHandler`` actions (the lock outside the before-image record; the restore takes
  that lock, ``dynamodb_atomic_writes.LOCK``, itself), and
  ``dynamodb_query_index`` wraps ``DynamoHandler.call_action``, which calls them.

Each entry names the moto version the patch was written against (and checked with its
tests). Patches reach into moto's internals, so on any other installed moto version the
server refuses to start, naming the affected patches, unless
``LOCALCLOUD_ALLOW_MOTO_VERSION`` names that installed version.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from localcloud import settings

Kind = Literal["fidelity", "speed"]
KINDS: tuple[Kind, ...] = ("fidelity", "speed")


@dataclass(frozen=True)
class Patch:
    """One module of ``localcloud/ext/<kind>/`` and the moto version it was written for."""

    kind: Kind
    name: str
    moto: str

    @property
    def module(self) -> str:
        return f"localcloud.ext.{self.kind}.{self.name}"

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


PATCHES: tuple[Patch, ...] = (
    Patch("fidelity", "acm_dns_validation", moto="5.2.5"),
    Patch("fidelity", "acm_twin_certificates", moto="5.2.5"),
    Patch("fidelity", "autoscaling_instance_refresh", moto="5.2.5"),
    Patch("fidelity", "autoscaling_metrics_collection", moto="5.2.5"),
    Patch("fidelity", "autoscaling_tag_order", moto="5.2.5"),
    Patch("fidelity", "backup_jobs", moto="5.2.5"),
    Patch("fidelity", "backup_selections", moto="5.2.5"),
    Patch("fidelity", "backup_vault_access_denied", moto="5.2.5"),
    # after backup_jobs and backup_selections, whose jobs and selections it uses
    Patch("fidelity", "backup_plan_schedule", moto="5.2.5"),
    Patch("fidelity", "budgets_subscribers", moto="5.2.5"),
    Patch("fidelity", "cloudtrail_delete_by_arn", moto="5.2.5"),
    Patch("fidelity", "cloudtrail_default_event_selectors", moto="5.2.5"),
    # before dynamodb_atomic_writes, so that its lock wraps the before-images too
    Patch("fidelity", "dynamodb_point_in_time", moto="5.2.5"),
    Patch("fidelity", "dynamodb_atomic_writes", moto="5.2.5"),
    Patch("fidelity", "dynamodb_table_id", moto="5.2.5"),
    Patch("fidelity", "ec2_launch_template_instances", moto="5.2.5"),
    Patch("fidelity", "ec2_network_acl_id_filter", moto="5.2.5"),
    Patch("fidelity", "ec2_volume_snapshot_id", moto="5.2.5"),
    Patch("fidelity", "ec2_route_targets", moto="5.2.5"),
    Patch("fidelity", "ec2_containers", moto="5.2.5"),
    Patch("fidelity", "ec2_debian_amis", moto="5.2.5"),
    Patch("fidelity", "elbv2_load_balancer_attributes", moto="5.2.5"),
    Patch("fidelity", "elbv2_slow_provision", moto="5.2.5"),
    Patch("fidelity", "elbv2_target_group_attributes", moto="5.2.5"),
    Patch("fidelity", "rds_gp3_defaults", moto="5.2.5"),
    Patch("fidelity", "rds_parameter_defaults", moto="5.2.5"),
    Patch("fidelity", "rds_certificates", moto="5.2.5"),
    Patch("fidelity", "rds_engine_versions", moto="5.2.5"),
    Patch("fidelity", "rds_slow_create", moto="5.2.5"),
    Patch("fidelity", "iam_managed_policies", moto="5.2.5"),
    Patch("fidelity", "ec2_launch_template_user_data", moto="5.2.5"),
    Patch("fidelity", "ecr_registry", moto="5.2.5"),
    Patch("fidelity", "kms_key_arn", moto="5.2.5"),
    Patch("fidelity", "kms_aws_managed_keys", moto="5.2.5"),
    Patch("fidelity", "logs_test_metric_filter", moto="5.2.5"),
    Patch("fidelity", "rds_database", moto="5.2.5"),
    # after rds_database: its status waits for restores too, its wrappers wrap rds_database's
    Patch("fidelity", "rds_backups", moto="5.2.5"),
    Patch("fidelity", "elbv2_twin_balancer", moto="5.2.5"),
    Patch("fidelity", "autoscaling_elb_health", moto="5.2.5"),
    Patch("fidelity", "sts_caller_identity", moto="5.2.5"),
    Patch("fidelity", "ses_dns_verification", moto="5.2.5"),
    Patch("fidelity", "cloudfront_policies", moto="5.2.5"),
    Patch("fidelity", "cloudfront_functions", moto="5.2.5"),
    Patch("fidelity", "s3_bucket_policy_conditions", moto="5.2.5"),
    Patch("fidelity", "secretsmanager_rotation", moto="5.2.5"),
    Patch("speed", "dynamodb_fast_serializer", moto="5.2.5"),
    Patch("speed", "dynamodb_hot_paths", moto="5.2.5"),
    Patch("speed", "dynamodb_item_tracking", moto="5.2.5"),
    Patch("speed", "dynamodb_query_index", moto="5.2.5"),
    Patch("speed", "request_overhead", moto="5.2.5"),
)

_EXT = Path(__file__).resolve().parent / "ext"
_applied: tuple[Patch, ...] | None = None


def installed_moto_version() -> str:
    return importlib.metadata.version("moto")


def selected(speed: bool | None = None) -> tuple[Patch, ...]:
    """The patches to apply: all, or the fidelity ones with the speed patches off."""
    if speed is None:
        speed = settings.speed_patches()
    return tuple(p for p in PATCHES if speed or p.kind != "speed")


def unregistered(ext: Path | None = None) -> list[str]:
    """Modules under ``localcloud/ext/`` that :data:`PATCHES` does not list."""
    ext = ext or _EXT
    known = {(p.kind, p.name) for p in PATCHES}
    found = []
    for path in sorted(ext.rglob("*.py")):
        relative = path.relative_to(ext)
        if relative.name == "__init__.py" and len(relative.parts) <= 2:
            continue
        if len(relative.parts) != 2 or (relative.parts[0], path.stem) not in known:
            found.append(f"localcloud/ext/{relative.as_posix()}")
    return found


def check(installed: str | None = None, speed: bool | None = None) -> tuple[Patch, ...]:
    """Refuse (``SystemExit``) a tree or moto version the patches were not written for.

    Returns the selected patches written against another moto version than the installed
    one: empty, or allowed by ``LOCALCLOUD_ALLOW_MOTO_VERSION`` = the installed version.
    """
    stray = unregistered()
    if stray:
        raise SystemExit(
            f"localcloud: {', '.join(stray)} not listed in localcloud/extensions.py PATCHES "
            "(add each patch there with its kind and moto version, or remove the file)")
    installed = installed or installed_moto_version()
    affected = tuple(p for p in selected(speed) if p.moto != installed)
    if not affected or settings.allowed_moto_version() == installed:
        return affected
    names = ", ".join(f"{p} (moto {p.moto})" for p in affected)
    raise SystemExit(
        f"localcloud: moto {installed} is installed, but these patches were written against "
        f"another version: {names}. Check them against moto {installed} and update their "
        f"version in localcloud/extensions.py, or set LOCALCLOUD_ALLOW_MOTO_VERSION={installed} "
        "to start anyway")


def apply() -> tuple[Patch, ...]:
    """Install the selected patches into moto, in :data:`PATCHES` order (idempotent).

    Returns what was applied; :func:`applied` tells it later (``GET /localcloud/patches``).
    """
    global _applied
    if _applied is not None:
        return _applied
    affected = check()
    if affected:
        print(f"localcloud: LOCALCLOUD_ALLOW_MOTO_VERSION: applying patches written against "
              f"another moto version: {', '.join(f'{p} (moto {p.moto})' for p in affected)}",
              file=sys.stderr, flush=True)
    patches = selected()
    for patch in patches:
        importlib.import_module(patch.module).apply()
    _applied = patches
    return patches


def applied() -> tuple[Patch, ...]:
    """The patches :func:`apply` installed in this process (empty before it ran)."""
    return _applied or ()
