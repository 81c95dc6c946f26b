# -*- coding: utf-8 -*-
"""Action plugin for asg_refresh: print refresh progress while the task runs.

A module cannot print while it runs: its output reaches Ansible only when it exits.
So, when asked to wait, this action runs the module once without waiting (to start,
cancel, roll back or find the refresh), then runs it again every ``poll_interval``
seconds with ``refresh_id`` (describe only) and prints a line each time the status,
percentage or instances to update change. The module does all AWS work, on the host
the task targets; this plugin only loops and prints. Without this plugin the module
waits by itself and returns the same progress in its result.
"""
from __future__ import annotations

import time
from typing import Any, Optional

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

TERMINAL = frozenset({"Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"})
MODULE = "asg_refresh"


def progress_key(result: dict[str, Any]) -> tuple[Any, ...]:
    return (result.get("status"), result.get("percentage_complete"), result.get("instances_to_update"),
            result.get("status_reason"))


def progress_line(host: str, group: str, result: dict[str, Any], elapsed: float) -> str:
    line = (f"asg_refresh [{host}] {group}: refresh {result.get('refresh_id')} {result.get('status')}, "
            f"{result.get('percentage_complete', 0)}% complete, "
            f"{result.get('instances_to_update', 0)} instance(s) to update, {elapsed:.0f}s")
    if result.get("status_reason"):
        line += f" ({result['status_reason']})"
    return line


class ActionModule(ActionBase):
    """Start/act once, then follow with describe-only module runs, printing progress."""

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: Optional[str] = None, task_vars: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        super().run(tmp, task_vars)
        args = dict(self._task.args)
        if self._task.async_val:
            # async: the module runs detached and waits by itself (progress in its result)
            wrap_async = not self._connection.has_native_async
            return self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                        wrap_async=wrap_async)
        try:
            return self._follow(args, task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _follow(self, args: dict[str, Any], task_vars: Optional[dict[str, Any]]) -> dict[str, Any]:
        wait = boolean(args.get("wait", True), strict=False)
        if not wait or self._task.check_mode:
            return self._run(args, task_vars, wait=wait)
        try:
            timeout = int(args.get("timeout", 3600))
            interval = max(1, int(args.get("poll_interval", 15)))
        except (TypeError, ValueError):
            return self._run(args, task_vars, wait=True)  # the module reports the bad value

        began = time.monotonic()
        first = self._run(args, task_vars, wait=False)
        if first.get("failed") or not first.get("refresh_id") or first.get("status") in TERMINAL:
            return first
        host = task_vars.get("inventory_hostname", "?") if task_vars else "?"
        group = str(args.get("name") or args.get("group_name"))
        progress: list[dict[str, Any]] = []
        last: Optional[tuple[Any, ...]] = None
        current = first
        while True:
            if progress_key(current) != last:
                last = progress_key(current)
                elapsed = time.monotonic() - began
                display.display(progress_line(host, group, current, elapsed))
                progress.append({"status": current.get("status"),
                                 "percentage_complete": current.get("percentage_complete"),
                                 "instances_to_update": current.get("instances_to_update"),
                                 "elapsed": round(elapsed, 1)})
            if current.get("failed") or current.get("status") in TERMINAL:
                break
            if time.monotonic() - began >= timeout:
                current = {**current, "failed": True, "msg": (
                    f"timed out after {timeout}s following instance refresh {first['refresh_id']} of "
                    f"{group}: still {current.get('status')} at {current.get('percentage_complete')}% "
                    "(it keeps running; follow it again with refresh_id)")}
                break
            time.sleep(min(interval, max(0.0, timeout - (time.monotonic() - began))))
            current = self._run({**args, "refresh_id": first["refresh_id"]}, task_vars, wait=False)
        return {**current, "changed": bool(first.get("changed")), "followed": bool(first.get("followed")),
                "progress": progress}

    def _run(self, args: dict[str, Any], task_vars: Optional[dict[str, Any]], *, wait: bool) -> dict[str, Any]:
        return self._execute_module(module_name=MODULE, module_args={**args, "wait": wait},
                                    task_vars=task_vars)
