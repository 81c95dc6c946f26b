# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What following an Auto Scaling instance refresh means, written once.

The ``asg_refresh`` module and its action plugin both follow a refresh: the module when
it waits by itself (``async``, or without the action plugin), the action plugin when it
prints progress while the task runs. Both use this file: the statuses, the result fields
taken from a ``DescribeInstanceRefreshes`` entry, the progress line and the one poll
loop (:func:`follow`, built on ``autobuy_aws.wait_until``).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws import WaitTimeout, wait_until

ACTIVE = frozenset({"Pending", "InProgress", "Baking", "Cancelling", "RollbackInProgress"})
FOLLOWABLE = frozenset({"Pending", "InProgress", "Baking"})
TERMINAL = frozenset({"Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"})


class FollowTimeout(Exception):
    """:func:`follow` ran out of time; ``result`` is the last result with its progress."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def summarise(refresh: dict[str, Any], now: Optional[datetime] = None) -> dict[str, Any]:
    """The module's result fields from a DescribeInstanceRefreshes entry."""
    start, end = refresh.get("StartTime"), refresh.get("EndTime")
    now = now or datetime.now(timezone.utc)
    duration = 0.0
    if isinstance(start, datetime):
        duration = max(0.0, ((end if isinstance(end, datetime) else now) - start).total_seconds())
    out = {
        "refresh_id": refresh.get("InstanceRefreshId", ""),
        "status": refresh.get("Status", "NotStarted"),
        "status_reason": refresh.get("StatusReason", ""),
        "percentage_complete": int(refresh.get("PercentageComplete") or 0),
        "instances_to_update": int(refresh.get("InstancesToUpdate") or 0),
        "duration": round(duration, 1),
    }
    if refresh.get("RollbackDetails"):
        out["rollback_details"] = refresh["RollbackDetails"]
    return out


def progress_key(result: dict[str, Any]) -> tuple[Any, ...]:
    """What must change for a new progress line / entry."""
    return (result.get("status"), result.get("percentage_complete"), result.get("instances_to_update"),
            result.get("status_reason"))


def progress_line(group: str, result: dict[str, Any], elapsed: Optional[float] = None) -> str:
    """One human line: what a user watching the task wants to know."""
    line = (f"{group}: refresh {result.get('refresh_id')} {result.get('status')}, "
            f"{result.get('percentage_complete', 0)}% complete, "
            f"{result.get('instances_to_update', 0)} instance(s) to update")
    if elapsed is not None:
        line += f", {elapsed:.0f}s"
    if result.get("status_reason"):
        line += f" ({result['status_reason']})"
    return line


def is_done(result: dict[str, Any]) -> bool:
    return bool(result.get("failed")) or result.get("status") in TERMINAL


def follow(
    probe: Callable[[], dict[str, Any]],
    *,
    refresh_id: str,
    group: str,
    timeout: float,
    interval: float,
    on_change: Optional[Callable[[dict[str, Any], float], None]] = None,
    started: Optional[float] = None,
    wait: Callable[..., Any] = wait_until,
) -> dict[str, Any]:
    """Probe (a result dict: ``summarise`` of the refresh, or a module result) every
    ``interval`` s until it is terminal or failed; the returned result carries
    ``progress``, one entry per change. ``on_change(result, elapsed)`` is called on each
    change. :class:`FollowTimeout` after ``timeout`` s (counted from ``started``)."""
    began = time.monotonic() if started is None else started
    progress: list[dict[str, Any]] = []
    last: list[Optional[tuple[Any, ...]]] = [None]

    def record(result: dict[str, Any]) -> None:
        if progress_key(result) == last[0]:
            return
        last[0] = progress_key(result)
        elapsed = time.monotonic() - began
        progress.append({"status": result.get("status"), "percentage_complete": result.get("percentage_complete"),
                         "instances_to_update": result.get("instances_to_update"),
                         "elapsed": round(elapsed, 1)})
        if on_change is not None:
            on_change(result, elapsed)

    remaining = max(0.0, timeout - (time.monotonic() - began))
    try:
        result = wait(probe, is_done, timeout=remaining, interval=interval, on_progress=record,
                      what=f"instance refresh {refresh_id}")
    except WaitTimeout as exc:
        last_result = exc.last or {}
        raise FollowTimeout(
            f"timed out after {timeout}s following instance refresh {refresh_id} of {group}: still "
            f"{last_result.get('status')} at {last_result.get('percentage_complete')}% "
            "(it keeps running; follow it again with refresh_id)",
            {**last_result, "progress": progress},
        ) from exc
    return {**result, "progress": progress}
