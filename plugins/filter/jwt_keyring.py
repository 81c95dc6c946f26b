# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One step of a JWT signing key rotation on the app secret (playbooks/rotate_jwt_key.yml).

``{{ secret | autobuy_jwt_rotation(step, now=..., new_key=..., ...) }}`` returns
``{"secret": new value, "changed": bool, "msg": str}``. The app secret holds ``jwt_keys``
(key id -> key), ``jwt_current_kid`` (the key that signs) and ``jwt_signing_key`` (the
current key's value, for readers from before key ids); a secret with only
``jwt_signing_key`` is first given the key id ``k0`` (as the app reads it). Steps:

* ``add``: a new key that verifies but does not sign yet (nothing while another key than
  the current one is in the keyring: pending, or not retired yet);
* ``promote``: the pending key signs, once it is older than ``settle_seconds`` (every
  app has re-read the secret by then, so every app verifies what it signs);
* ``retire``: the keys other than the current one go, once the promotion is older than
  ``token_seconds + settle_seconds`` (every token they signed has expired, everywhere).

A step that is not due yet comes back with ``failed`` and the time it becomes due; no key
value appears in a message. The steps are plugins/plugin_utils/jwt_keyring.py (shared with the
app secret's rotation function); the playbook reads and writes the secret.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.autobuy.guard.plugins.plugin_utils import jwt_keyring as keyring

DOCUMENTATION = """
  name: autobuy_jwt_rotation
  short_description: One step of a JWT signing key rotation on the app secret
  description:
    - Takes the app secret (dict) and returns the new secret value, whether it changed and a message.
  positional: _input, step
  options:
    _input:
      description: The app secret's value.
      type: dict
      required: true
    step:
      description: The step.
      type: str
      choices: [add, promote, retire]
      required: true
    now:
      description: The time, seconds since the epoch.
      type: int
      required: true
    new_key:
      description: The new key (step add).
      type: str
    new_kid:
      description: The new key's id (step add), matching [A-Za-z0-9._-]{1,64}.
      type: str
    settle_seconds:
      description: How long every app takes to re-read the secret (its cache time, with a margin).
      type: int
      default: 360
    token_seconds:
      description: How long an access token lives.
      type: int
      default: 900
"""

EXAMPLES = """
- name: Add a key
  ansible.builtin.set_fact:
    rotation: "{{ app_secret | autobuy.guard.autobuy_jwt_rotation('add', now=now(utc=true).timestamp() | int,
                  new_key=lookup('ansible.builtin.password', '/dev/null', length=64), new_kid='k20261201') }}"
"""

RETURN = """
  _value:
    description: C(secret) (the new value), C(changed) (bool), C(failed) (bool, true when the step
      could not or may not run yet), C(msg) (what the step did, or why it failed).
    type: dict
"""


def autobuy_jwt_rotation(secret: Mapping[str, Any], step: str, now: int, new_key: str = "",
                         new_kid: str = "", settle_seconds: int = 360,
                         token_seconds: int = 900) -> dict[str, Any]:
    """The step's result; a step that cannot or may not run yet returns the secret
    unchanged with ``failed`` and the reason in ``msg`` (the playbook hides the secret with
    no_log and fails with that message)."""
    try:
        value, changed, msg = keyring.step(secret, step, int(now), new_key, new_kid,
                                           settle_seconds, token_seconds)
    except keyring.KeyringError as exc:
        return {"secret": dict(secret) if isinstance(secret, Mapping) else {}, "changed": False,
                "failed": True, "msg": str(exc)}
    return {"secret": value, "changed": changed, "failed": False, "msg": msg}


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"autobuy_jwt_rotation": autobuy_jwt_rotation}
