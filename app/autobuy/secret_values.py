"""Secrets read at run time from Secrets Manager, cached for a bounded time.

The instance's env file holds the secrets' values at boot; with ``AUTOBUY_DB_SECRET_ID`` /
``AUTOBUY_APP_SECRET_ID`` set the app also reads the secrets themselves, so a rotated value
reaches it without a restart (docs/security.md, "Rotation"):

* the app secret (JWT signing keys) is read at start-up (the app does not start without
  it) and re-read when the cached copy is older than ``AUTOBUY_SECRET_CACHE_SECONDS``;
* the database secret is re-read when MySQL refuses the password (error 1045), at most
  once per ``min_refresh_seconds``.

When Secrets Manager cannot be reached the last value stays in use (logged without the
value) and the read is tried again after the same interval: an outage of Secrets Manager
never signs anyone out.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Fetch = Callable[[], dict[str, Any]]


class SecretUnavailable(RuntimeError):
    """The secret could not be read (the message names the secret, never a value)."""


class SecretValue:
    """One JSON secret: ``initial`` until the first read, then the fetched value.

    ``get()`` re-reads when the value is older than ``max_age`` seconds (0: never);
    ``refresh()`` re-reads now unless the last read is younger than ``min_refresh_seconds``.
    """

    def __init__(self, name: str, fetch: Fetch | None, initial: dict[str, Any], *,
                 max_age: float, min_refresh_seconds: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_age < 0 or min_refresh_seconds < 0:
            raise ValueError("secret cache times must not be negative")
        self.name = name
        self._fetch = fetch
        self._value = dict(initial)
        self._max_age = max_age
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._read_at = float("-inf")  # never read: the first refresh goes at once
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any]:
        """Read the secret now (at start-up): SecretUnavailable when it cannot be read."""
        if self._fetch is None:
            return self._value
        with self._lock:
            try:
                self._value = self._fetch()
            except SecretUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - named, never with a value
                raise SecretUnavailable(f"secret {self.name} could not be read: "
                                        f"{type(exc).__name__}") from None
            self._read_at = self._clock()
            return self._value

    @property
    def refreshable(self) -> bool:
        return self._fetch is not None

    def get(self) -> dict[str, Any]:
        if self._fetch is not None and self._max_age and self._clock() - self._read_at >= self._max_age:
            self._read(force=False)
        return self._value

    def refresh(self) -> bool:
        """Re-read the secret now; True when its value changed."""
        if self._fetch is None:
            return False
        return self._read(force=True)

    def _read(self, *, force: bool) -> bool:
        with self._lock:
            now = self._clock()
            if force and now - self._read_at < self._min_refresh:
                return False
            if not force and now - self._read_at < self._max_age:
                return False  # another thread has just read it
            self._read_at = now
            try:
                value = self._fetch()  # type: ignore[misc]
            except Exception as exc:  # noqa: BLE001 - any failure keeps the last value
                log.warning("secret %s could not be re-read (%s); the last value stays in use",
                            self.name, type(exc).__name__)
                return False
            changed = value != self._value
            self._value = value
            if changed:
                log.info("secret %s: a new value is in use", self.name)
            return changed


PENDING_PASSWORD = "pending_password"


def secrets_manager_fetch(secret_id: str, client: Any, *, pending_password: bool = False) -> Fetch:
    """A fetch of the JSON secret ``secret_id`` through a boto3 Secrets Manager client.

    ``pending_password``: also read the ``AWSPENDING`` version, and when a rotation has
    staged a password there that differs from the current one, add it to the value as
    ``pending_password``. A single-user rotation sets it in the database (``setSecret``)
    before the secret makes it current (``finishSecret``): in between, it is the one the
    database accepts.
    """
    def parse(answer: dict[str, Any]) -> dict[str, Any]:
        try:
            value = json.loads(answer["SecretString"])
        except (KeyError, ValueError):
            raise SecretUnavailable(f"secret {secret_id} is not a JSON string") from None
        if not isinstance(value, dict):
            raise SecretUnavailable(f"secret {secret_id} is not a JSON object")
        return value

    def fetch() -> dict[str, Any]:
        value = parse(client.get_secret_value(SecretId=secret_id))
        if pending_password:
            try:
                pending = parse(client.get_secret_value(SecretId=secret_id, VersionStage="AWSPENDING"))
            except client.exceptions.ResourceNotFoundException:
                pending = {}  # no rotation in progress
            staged = pending.get("password")
            if staged and staged != value.get("password"):
                value = {**value, PENDING_PASSWORD: staged}
        return value
    return fetch


def secrets_client(settings: Any) -> Any:
    """The Secrets Manager client of the settings (region, endpoint, bounded calls)."""
    import boto3

    from autobuy.dependencies import aws_config

    options: dict[str, Any] = {"region_name": settings.aws_region, "config": aws_config(settings)}
    if settings.aws_endpoint_url:
        options["endpoint_url"] = settings.aws_endpoint_url
    return boto3.session.Session().client("secretsmanager", **options)


class KeyringSource:
    """The JWT keyring of the app secret, re-parsed when the secret's value changes; a
    value that does not parse is logged (never its content) and the last good keyring
    stays in use."""

    def __init__(self, secret: SecretValue) -> None:
        from autobuy.services.tokens import keyring_from_secret

        self._parse = keyring_from_secret
        self._secret = secret
        self._seen = secret.load()
        self._keyring = keyring_from_secret(self._seen)

    def __call__(self) -> Any:
        value = self._secret.get()
        if value is not self._seen:
            self._seen = value
            try:
                self._keyring = self._parse(value)
            except ValueError as exc:
                log.error("secret %s: JWT keys not usable (%s); the last keys stay in use",
                          self._secret.name, exc)
        return self._keyring
