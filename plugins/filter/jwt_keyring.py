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
value appears in a message. Pure Python: the playbook reads and writes the secret.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

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

LEGACY_KID = "k0"  # as autobuy.services.tokens.LEGACY_KID
KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_KEY_LENGTH = 32


def _keyring(secret: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    keys = secret.get("jwt_keys")
    if keys is None:
        key = secret.get("jwt_signing_key")
        if not isinstance(key, str) or not key:
            raise AnsibleFilterError("the app secret has neither jwt_keys nor jwt_signing_key")
        return {LEGACY_KID: key}, LEGACY_KID
    if not isinstance(keys, Mapping) or not keys:
        raise AnsibleFilterError("jwt_keys of the app secret must be a non-empty object")
    current = secret.get("jwt_current_kid")
    if current not in keys:
        raise AnsibleFilterError(f"jwt_current_kid {current!r} is not among the keys ({', '.join(sorted(keys))})")
    return dict(keys), str(current)


def _when(moment: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def autobuy_jwt_rotation(secret: Mapping[str, Any], step: str, now: int, new_key: str = "",
                         new_kid: str = "", settle_seconds: int = 360,
                         token_seconds: int = 900) -> dict[str, Any]:
    """The step's result; a step that cannot or may not run yet returns the secret
    unchanged with ``failed`` and the reason in ``msg`` (the playbook hides the secret with
    no_log and fails with that message)."""
    try:
        return _step(secret, step, int(now), new_key, new_kid, settle_seconds, token_seconds)
    except AnsibleFilterError as exc:
        return {"secret": dict(secret) if isinstance(secret, Mapping) else {}, "changed": False,
                "failed": True, "msg": str(exc)}


def _step(secret: Mapping[str, Any], step: str, now: int, new_key: str, new_kid: str,
          settle_seconds: int, token_seconds: int) -> dict[str, Any]:
    if not isinstance(secret, Mapping):
        raise AnsibleFilterError("autobuy_jwt_rotation expects the app secret as a dict")
    keys, current = _keyring(secret)
    pending = [kid for kid in keys if kid != current]
    out = dict(secret)

    def result(changed: bool, msg: str) -> dict[str, Any]:
        if changed:
            out["jwt_keys"], out["jwt_current_kid"] = keys, current
            out["jwt_signing_key"] = keys[current]
        return {"secret": out, "changed": changed, "failed": False, "msg": msg}

    if step == "add":
        if pending and "jwt_promoted_at" not in secret:
            return result(False, f"key {pending[-1]} is already pending: promote it")
        if pending:
            return result(False, f"{', '.join(pending)} not retired yet: retire before adding a key")
        if not KID.match(new_kid or ""):
            raise AnsibleFilterError(f"new_kid must match {KID.pattern}")
        if new_kid in keys:
            raise AnsibleFilterError(f"key id {new_kid} is already in the keyring")
        if len(new_key or "") < MIN_KEY_LENGTH:
            raise AnsibleFilterError(f"new_key must have at least {MIN_KEY_LENGTH} characters")
        keys[new_kid] = new_key
        out["jwt_added_at"] = now
        out.pop("jwt_promoted_at", None)
        return result(True, f"key {new_kid} added; it signs after promote, from {_when(now + settle_seconds)}")
    if step == "promote":
        if not pending or "jwt_promoted_at" in secret:
            return result(False, f"no pending key: {current} signs")
        due = int(secret.get("jwt_added_at", 0)) + settle_seconds
        if now < due:
            raise AnsibleFilterError(f"promote is due at {_when(due)}: until then an app may not know "
                                     f"the new key yet")
        current = pending[-1]
        out["jwt_promoted_at"] = now
        return result(True, f"key {current} signs; retire the others from {_when(now + token_seconds + settle_seconds)}")
    if step == "retire":
        if not pending:
            return result(False, f"only key {current} is left")
        if "jwt_promoted_at" not in secret:
            raise AnsibleFilterError(f"key {pending[-1]} is pending: promote it before retiring keys")
        due = int(secret["jwt_promoted_at"]) + token_seconds + settle_seconds
        if now < due:
            raise AnsibleFilterError(f"retire is due at {_when(due)}: tokens signed with "
                                     f"{', '.join(pending)} may still be in use")
        keys = {current: keys[current]}
        return result(True, f"retired {', '.join(pending)}; key {current} signs and verifies")
    raise AnsibleFilterError(f"step must be add, promote or retire, not {step!r}")


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"autobuy_jwt_rotation": autobuy_jwt_rotation}
