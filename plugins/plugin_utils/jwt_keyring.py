# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps of a JWT signing key rotation on the app secret, in one place.

Used by the filter ``autobuy.guard.autobuy_jwt_rotation`` (playbooks/rotate_jwt_key.yml)
and, copied into its zip, by the app secret's rotation function
(playbooks/files/jwt_rotation/): no Ansible import, errors are :class:`KeyringError`.

The app secret holds ``jwt_keys`` (key id -> key), ``jwt_current_kid`` (the key that
signs) and ``jwt_signing_key`` (the current key's value, for readers from before key
ids); a secret with only ``jwt_signing_key`` is first given the key id ``k0`` (as the app
reads it). Steps:

* ``add``: a new key that verifies but does not sign yet (nothing while another key than
  the current one is in the keyring: pending, or not retired yet);
* ``promote``: the pending key signs, once it is older than ``settle_seconds`` (every
  app has re-read the secret by then, so every app verifies what it signs);
* ``retire``: the keys other than the current one go, once the promotion is older than
  ``token_seconds + settle_seconds`` (every token they signed has expired, everywhere).

A step that is not due yet raises :class:`NotDueError` with the time it becomes due; no
key value appears in a message.
"""
from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

LEGACY_KID = "k0"  # as autobuy.services.tokens.LEGACY_KID
KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MIN_KEY_LENGTH = 32
STEPS = ("add", "promote", "retire")
#: Fields of the app secret that belong to the keyring (the data tier keeps them).
FIELDS = ("jwt_signing_key", "jwt_keys", "jwt_current_kid", "jwt_added_at", "jwt_promoted_at")


class KeyringError(ValueError):
    """The step cannot run on this secret, or with these arguments."""


class NotDueError(KeyringError):
    """The step may not run yet: ``due`` is when it may (seconds since the epoch)."""

    def __init__(self, message: str, due: int) -> None:
        super().__init__(message)
        self.due = due


def when(moment: int) -> str:
    """``moment`` (seconds since the epoch) as a UTC time a person reads."""
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def keyring(secret: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    """The keys (id -> key) and the id of the key that signs."""
    keys = secret.get("jwt_keys")
    if keys is None:
        key = secret.get("jwt_signing_key")
        if not isinstance(key, str) or not key:
            raise KeyringError("the app secret has neither jwt_keys nor jwt_signing_key")
        return {LEGACY_KID: key}, LEGACY_KID
    if not isinstance(keys, Mapping) or not keys:
        raise KeyringError("jwt_keys of the app secret must be a non-empty object")
    current = secret.get("jwt_current_kid")
    if current not in keys:
        raise KeyringError(f"jwt_current_kid {current!r} is not among the keys ({', '.join(sorted(keys))})")
    return dict(keys), str(current)


def check(secret: Mapping[str, Any]) -> str:
    """Raise :class:`KeyringError` unless ``secret`` holds a keyring the app can use: every
    key id and key well formed, ``jwt_signing_key`` the current key. The current key id."""
    if not isinstance(secret, Mapping):
        raise KeyringError("the app secret must be an object")
    keys, current = keyring(secret)
    for kid, key in keys.items():
        if not KID.match(str(kid)):
            raise KeyringError(f"key id {kid!r} must match {KID.pattern}")
        if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH:
            raise KeyringError(f"key {kid} must be a string of at least {MIN_KEY_LENGTH} characters")
    if secret.get("jwt_signing_key") != keys[current]:
        raise KeyringError(f"jwt_signing_key is not the key of jwt_current_kid {current}")
    return current


def due_step(secret: Mapping[str, Any], settle_seconds: int, token_seconds: int) -> tuple[str, int]:
    """The next step of the cycle add -> promote -> retire and when it is due (``add`` is
    due at once)."""
    keys, current = keyring(secret)
    pending = [kid for kid in keys if kid != current]
    if not pending:
        return "add", 0
    if "jwt_promoted_at" not in secret:
        return "promote", int(secret.get("jwt_added_at", 0)) + settle_seconds
    return "retire", int(secret["jwt_promoted_at"]) + token_seconds + settle_seconds


def step(secret: Mapping[str, Any], name: str, now: int, new_key: str = "", new_kid: str = "",
         settle_seconds: int = 360, token_seconds: int = 900) -> tuple[dict[str, Any], bool, str]:
    """Run step ``name``: the new secret value, whether it changed, and what was done (or
    why nothing was). Raises :class:`NotDueError` before the step is due and
    :class:`KeyringError` when it cannot run."""
    if not isinstance(secret, Mapping):
        raise KeyringError("autobuy_jwt_rotation expects the app secret as a dict")
    keys, current = keyring(secret)
    pending = [kid for kid in keys if kid != current]
    out = dict(secret)

    def result(changed: bool, msg: str) -> tuple[dict[str, Any], bool, str]:
        if changed:
            out["jwt_keys"], out["jwt_current_kid"] = keys, current
            out["jwt_signing_key"] = keys[current]
        return out, changed, msg

    if name == "add":
        if pending and "jwt_promoted_at" not in secret:
            return result(False, f"key {pending[-1]} is already pending: promote it")
        if pending:
            return result(False, f"{', '.join(pending)} not retired yet: retire before adding a key")
        if not KID.match(new_kid or ""):
            raise KeyringError(f"new_kid must match {KID.pattern}")
        if new_kid in keys:
            raise KeyringError(f"key id {new_kid} is already in the keyring")
        if len(new_key or "") < MIN_KEY_LENGTH:
            raise KeyringError(f"new_key must have at least {MIN_KEY_LENGTH} characters")
        keys[new_kid] = new_key
        out["jwt_added_at"] = now
        out.pop("jwt_promoted_at", None)
        return result(True, f"key {new_kid} added; it signs after promote, from {when(now + settle_seconds)}")
    if name == "promote":
        if not pending or "jwt_promoted_at" in secret:
            return result(False, f"no pending key: {current} signs")
        due = int(secret.get("jwt_added_at", 0)) + settle_seconds
        if now < due:
            raise NotDueError(f"promote is due at {when(due)}: until then an app may not know the new key yet", due)
        current = pending[-1]
        out["jwt_promoted_at"] = now
        return result(True, f"key {current} signs; retire the others from {when(now + token_seconds + settle_seconds)}")
    if name == "retire":
        if not pending:
            return result(False, f"only key {current} is left")
        if "jwt_promoted_at" not in secret:
            raise KeyringError(f"key {pending[-1]} is pending: promote it before retiring keys")
        due = int(secret["jwt_promoted_at"]) + token_seconds + settle_seconds
        if now < due:
            raise NotDueError(f"retire is due at {when(due)}: tokens signed with "
                              f"{', '.join(pending)} may still be in use", due)
        keys = {current: keys[current]}
        return result(True, f"retired {', '.join(pending)}; key {current} signs and verifies")
    raise KeyringError(f"step must be add, promote or retire, not {name!r}")
