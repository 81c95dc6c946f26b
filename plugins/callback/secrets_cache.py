# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback: serve the secrets_manager lookup's cache for the whole playbook run."""
from __future__ import annotations

DOCUMENTATION = r"""
name: secrets_cache
type: aggregate
short_description: One Secrets Manager read per secret per playbook run, across forks
description:
  - Lookups run in forked worker processes, so a cache inside the lookup would be lost
    after every task. This callback runs in the main C(ansible-playbook) process. When
    the first play starts it serves an in-memory cache on a Unix socket in a private
    (0700) temporary directory and exports its path in E(AUTOBUY_SECRETS_CACHE_SOCKET)
    before any worker forks. The C(secrets_manager) lookup reads through it, so each
    secret is fetched from AWS once per run, whatever the number of tasks, hosts and forks.
  - Secrets stay in memory; the socket directory is removed when the run ends.
  - Enabled by C(callbacks_enabled = autobuy.guard.secrets_cache) (the project's
    C(ansible.cfg)); it prints nothing.
author: AutoBuy Guard contributors (@autobuy-guard)
"""

import atexit  # noqa: E402
import os  # noqa: E402
from typing import Any, Optional  # noqa: E402

from ansible_collections.autobuy.guard.plugins.plugin_utils import secrets_cache as cache  # noqa: E402
from ansible_collections.autobuy.guard.plugins.plugin_utils.aggregate_callback import AggregateCallback  # noqa: E402


class CallbackModule(AggregateCallback):
    """Starts the cache server at the first play, stops it when the run ends."""

    CALLBACK_NAME = "secrets_cache"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._server: Optional[Any] = None
        self._previous: Optional[str] = None

    def _start(self) -> None:
        if self._server is not None:
            return
        self._server = cache.CacheServer().start()
        self._previous = os.environ.get(cache.SOCKET_ENV)
        os.environ[cache.SOCKET_ENV] = self._server.path
        atexit.register(self._stop)
        self._display.vvv(f"secrets_cache: serving the secrets cache on {self._server.path}")

    def _stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        self._server = None
        if self._previous is None:
            os.environ.pop(cache.SOCKET_ENV, None)
        else:
            os.environ[cache.SOCKET_ENV] = self._previous

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._start()

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._start()  # ad-hoc commands have plays but no playbook

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._stop()
