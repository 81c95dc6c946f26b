# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of the collection's callbacks: aggregate callbacks of the version 2 API.

Both callbacks (``autobuy.guard.secrets_cache``, ``autobuy.guard.ansiballz_cache``) set
something up for the run beside the stdout callback and print nothing of their own:
Ansible loads a callback of type ``aggregate`` alongside the stdout one (a ``stdout``
callback would replace it). Each plugin's class still names itself (``CALLBACK_NAME``)
and says whether it must be enabled (``CALLBACK_NEEDS_ENABLED``); its DOCUMENTATION
says ``type: aggregate`` too.
"""
from __future__ import annotations

from ansible.plugins.callback import CallbackBase


class AggregateCallback(CallbackBase):
    """A callback Ansible runs beside the stdout callback (v2 callback API)."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
