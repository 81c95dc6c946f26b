# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for asg_refresh: print refresh progress while the task runs.

A module cannot print while it runs: its output reaches Ansible only when it exits.
So, when asked to wait, this action runs the module once without waiting (to start,
cancel, roll back or find the refresh), then follows it with describe-only module runs
(``refresh_id``) every ``poll_interval`` seconds and prints a line each time the status,
percentage, instances to update or reason change. The module does all AWS work, on the
host the task targets; the poll loop, the statuses and the progress line are the
collection's ``instance_refresh`` module_utils, which the module uses when it waits by
itself (``async``).
"""
from __future__ import annotations

import time
from typing import Any, Optional

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.autobuy.guard.plugins.module_utils import instance_refresh
from ansible_collections.autobuy.guard.plugins.module_utils.instance_refresh import (
    TERMINAL,
    FollowTimeout,
    progress_key,
)

display = Display()

MODULE = "autobuy.guard.asg_refresh"
__all__ = ["ActionModule", "progress_key", "progress_line"]


def progress_line(host: str, group: str, result: dict[str, Any], elapsed: float) -> str:
    """The line printed while the task waits: the host, then the shared progress line."""
    return f"asg_refresh [{host}] {instance_refresh.progress_line(group, result, elapsed)}"


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
        pending = [first]

        def probe() -> dict[str, Any]:
            if pending:
                return pending.pop()
            return self._run({**args, "refresh_id": first["refresh_id"]}, task_vars, wait=False)

        def show(result: dict[str, Any], elapsed: float) -> None:
            display.display(progress_line(host, group, result, elapsed))

        try:
            current = instance_refresh.follow(probe, refresh_id=first["refresh_id"], group=group,
                                              timeout=timeout, interval=interval, on_change=show,
                                              started=began)
        except FollowTimeout as exc:
            current = {**exc.result, "failed": True, "msg": str(exc)}
        return {**current, "changed": bool(first.get("changed")), "followed": bool(first.get("followed"))}

    def _run(self, args: dict[str, Any], task_vars: Optional[dict[str, Any]], *, wait: bool) -> dict[str, Any]:
        return self._execute_module(module_name=MODULE, module_args={**args, "wait": wait},
                                    task_vars=task_vars)
