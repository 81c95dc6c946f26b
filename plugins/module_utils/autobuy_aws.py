# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS plumbing shared by every AutoBuy Guard plugin, written once.

* :func:`resolve_settings` turns plugin options + the usual environment variables
  into one :class:`ConnectionSettings` (region, profile, endpoint, keys, assume-role).
* :func:`client` creates a boto3 client from those settings (assuming a role when
  asked; assumed credentials are cached per process).
* :func:`aws_retry` is the one retry decorator: jittered exponential backoff on the
  error codes of :data:`RETRYABLE_ERROR_CODES` (the single central list).
* :func:`wait_until` is the one polling helper for "wait until a resource is ready".
* :data:`AWS_COMMON_ARGUMENT_SPEC` is the argument-spec fragment of every module.

Modules and controller-side plugins (lookups, callbacks, action plugins) all import
it as ``ansible_collections.autobuy.guard.plugins.module_utils.autobuy_aws``. It
depends on nothing but the standard library, boto3 and botocore (imported lazily, so a
missing boto3 is reported as a clear error instead of an ImportError).
"""
from __future__ import annotations

import functools
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Iterator, Mapping, Optional, TypeVar

T = TypeVar("T")

#: Error codes that mean "try again later" in any AWS service. The only list.
RETRYABLE_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "EC2ThrottledException",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServiceError",
        "InternalServiceErrorException",
    }
)

#: Error codes meaning the caller is not allowed to do what it asked.
ACCESS_DENIED_ERROR_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)

DEFAULT_SESSION_NAME = "autobuy-guard"

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


class AWSSettingsError(ValueError):
    """A connection setting is missing or malformed (message names the setting)."""


class WaitTimeout(Exception):
    """:func:`wait_until` ran out of time; ``last`` is the last value probed."""

    def __init__(self, message: str, last: Any) -> None:
        super().__init__(message)
        self.last = last


def _setting(*env: str, alias: Optional[str] = None, no_log: Optional[bool] = None) -> Any:
    """A field of :class:`ConnectionSettings`: unset by default, the module option of its
    name (a string, with ``alias``; ``no_log`` as the option says), and the environment
    variables ``env`` read when the option is not given (first match wins)."""
    option: dict[str, Any] = {"type": "str"}
    if alias:
        option["aliases"] = [alias]
    if no_log is not None:
        option["no_log"] = no_log
    # Called only in the ConnectionSettings body, where pylint wants field() written out.
    # pylint: disable-next=invalid-field-call
    return field(default=None, metadata={"option": option, "env": env})


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to build a client; ``None`` means "boto3's default".

    Each field is one connection setting, declared once: its module option (the
    ``autobuy_aws`` doc fragment documents them) and its environment variables.
    """

    region: Optional[str] = _setting("AWS_REGION", "AWS_DEFAULT_REGION", alias="aws_region")
    endpoint_url: Optional[str] = _setting("AWS_ENDPOINT_URL", alias="aws_endpoint_url")
    profile: Optional[str] = _setting("AWS_PROFILE", "AWS_DEFAULT_PROFILE", alias="aws_profile")
    access_key: Optional[str] = _setting("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY",
                                         alias="aws_access_key_id", no_log=False)
    secret_key: Optional[str] = _setting("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY",
                                         alias="aws_secret_access_key", no_log=True)
    session_token: Optional[str] = _setting("AWS_SESSION_TOKEN", alias="aws_session_token",
                                            no_log=True)
    assume_role_arn: Optional[str] = _setting("AWS_ASSUME_ROLE_ARN")
    assume_role_session_name: Optional[str] = _setting("AWS_ROLE_SESSION_NAME")

    def cache_key(self) -> tuple[Optional[str], ...]:
        """Identity of the account/endpoint these settings reach (no secret material)."""
        return (
            self.region,
            self.endpoint_url,
            self.profile,
            self.access_key,
            self.assume_role_arn,
        )

    def as_dict(self) -> dict[str, Optional[str]]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Argument-spec fragment shared by every module: the options of :class:`ConnectionSettings`.
AWS_COMMON_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    f.name: f.metadata["option"] for f in fields(ConnectionSettings)
}

#: Environment variables read for each setting, first match wins.
ENV_VARS: dict[str, tuple[str, ...]] = {f.name: f.metadata["env"] for f in fields(ConnectionSettings)}


def resolve_settings(
    options: Mapping[str, Any], env: Optional[Mapping[str, str]] = None
) -> ConnectionSettings:
    """Merge explicit options with the environment and validate them.

    An explicit option always wins over an environment variable; empty strings
    count as unset (so ``endpoint_url: ''`` means "real AWS").
    """
    env = os.environ if env is None else env
    values: dict[str, Optional[str]] = {}
    for name, env_names in ENV_VARS.items():
        value = options.get(name)
        if value in (None, ""):
            value = next((env[e] for e in env_names if env.get(e)), None)
        values[name] = str(value) if value not in (None, "") else None
    settings = ConnectionSettings(**values)
    _validate(settings)
    return settings


def _validate(settings: ConnectionSettings) -> None:
    if settings.endpoint_url and not re.match(r"^https?://[^\s/]+", settings.endpoint_url):
        raise AWSSettingsError(
            f"endpoint_url must be an http(s) URL, got {settings.endpoint_url!r}"
        )
    if bool(settings.access_key) != bool(settings.secret_key):
        raise AWSSettingsError(
            "access_key and secret_key must be given together (option or "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"
        )
    if settings.assume_role_arn and not _ROLE_ARN.match(settings.assume_role_arn):
        raise AWSSettingsError(
            f"assume_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), "
            f"got {settings.assume_role_arn!r}"
        )
    if settings.region and not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", settings.region):
        raise AWSSettingsError(f"region must look like 'eu-central-1', got {settings.region!r}")


# --------------------------------------------------------------------------- clients

_ASSUMED: dict[tuple[Any, ...], tuple[float, dict[str, str]]] = {}
_ASSUMED_LOCK = threading.Lock()


def _boto3() -> Any:
    try:
        import boto3  # noqa: PLC0415 - lazy so a missing boto3 gives a clear error
    except ImportError as exc:  # pragma: no cover - environment problem
        raise AWSSettingsError(
            "boto3 is required on the host running this plugin "
            f"(python: {sys.executable}): {exc}"
        ) from exc
    return boto3


def _config() -> Any:
    from botocore.config import Config  # noqa: PLC0415

    # Retries are ours (aws_retry): botocore makes exactly one attempt per call so
    # that the single list of retryable codes decides and call counts are honest.
    return Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        user_agent_extra="autobuy-guard",
        connect_timeout=10,
        read_timeout=60,
    )


def session(settings: ConnectionSettings) -> Any:
    """A boto3 session for the settings, with the assumed role's credentials if any."""
    boto3 = _boto3()
    base = boto3.session.Session(
        profile_name=settings.profile,
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        aws_session_token=settings.session_token,
        region_name=settings.region,
    )
    if not settings.assume_role_arn:
        return base
    creds = _assumed_credentials(base, settings)
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=base.region_name,
    )


def _assumed_credentials(base: Any, settings: ConnectionSettings) -> dict[str, str]:
    key = settings.cache_key() + (settings.assume_role_session_name,)
    with _ASSUMED_LOCK:
        cached = _ASSUMED.get(key)
        if cached and cached[0] - time.time() > 300:
            return cached[1]
        sts = base.client("sts", endpoint_url=settings.endpoint_url, config=_config())
        answer = aws_retry()(sts.assume_role)(
            RoleArn=settings.assume_role_arn,
            RoleSessionName=settings.assume_role_session_name or DEFAULT_SESSION_NAME,
        )
        creds = answer["Credentials"]
        expires = creds["Expiration"]
        expiry = expires.timestamp() if hasattr(expires, "timestamp") else time.time() + 900
        _ASSUMED[key] = (expiry, creds)
        return creds


def client(service: str, settings: ConnectionSettings) -> Any:
    """A boto3 client for ``service``; raises AWSSettingsError without a region."""
    sess = session(settings)
    if not sess.region_name:
        raise AWSSettingsError(
            "no AWS region: set the region option, AWS_REGION or AWS_DEFAULT_REGION, "
            "or a region in the profile"
        )
    return sess.client(service, endpoint_url=settings.endpoint_url, config=_config())


def with_region(settings: ConnectionSettings, region: Optional[str]) -> ConnectionSettings:
    """The same settings in another region (e.g. the region of a secret ARN)."""
    return replace(settings, region=region) if region else settings


# --------------------------------------------------------------------------- errors

def error_code(exc: BaseException) -> Optional[str]:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def error_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Message") or exc)
    return str(exc)


def fail_on_aws_error(module: Any, exc: BaseException, what: str, **result: Any) -> None:
    """``module.fail_json`` naming the AWS error code of a botocore error (``WHAT
    (Code): message``, plus ``result``); anything that is not an AWS error is raised again."""
    code = error_code(exc)
    if code is None:
        raise exc
    module.fail_json(msg=f"{what} ({code}): {error_message(exc)}", error_code=code, **result)


def is_retryable(exc: BaseException, extra_codes: frozenset[str] = frozenset()) -> bool:
    code = error_code(exc)
    if code is not None:
        return code in RETRYABLE_ERROR_CODES or code in extra_codes
    # Transport problems (connection reset, read timeout) are worth another try too.
    try:
        from botocore.exceptions import (  # noqa: PLC0415
            ConnectionClosedError,
            EndpointConnectionError,
            ReadTimeoutError,
        )
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError))


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in ACCESS_DENIED_ERROR_CODES


# --------------------------------------------------------------------------- retry / wait

def backoff_delays(
    attempts: int, base: float, cap: float, rng: Optional[random.Random] = None
) -> Iterator[float]:
    """Full-jitter exponential backoff: attempt n sleeps U(0, min(cap, base * 2**n))."""
    rng = rng or random.Random()
    for attempt in range(attempts):
        yield rng.uniform(0, min(cap, base * (2**attempt)))


def aws_retry(
    retries: int = 6,
    base: float = 0.5,
    cap: float = 20.0,
    extra_codes: tuple[str, ...] = (),
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Optional[Callable[[BaseException, float], None]] = None,
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: retry a call on retryable AWS errors with jittered exponential backoff.

    ``retries`` is the number of extra attempts; the last error is re-raised.
    Works on functions and on bound client methods:
    ``aws_retry()(client.get_secret_value)(SecretId=...)``.
    """
    extra = frozenset(extra_codes)

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            delays = backoff_delays(retries, base, cap)
            while True:
                try:
                    return func(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001 - filtered just below
                    delay = next(delays, None) if is_retryable(exc, extra) else None
                    if delay is None:
                        raise
                    if on_retry is not None:
                        on_retry(exc, delay)
                    sleep(delay)

        return wrapper

    return decorate


def wait_until(
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float,
    on_progress: Optional[Callable[[T], None]] = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "resource",
) -> T:
    """Call ``probe`` every ``interval`` s until ``done(value)``; WaitTimeout after ``timeout``."""
    if interval <= 0:
        raise ValueError("interval must be > 0")
    deadline = clock() + timeout
    while True:
        value = probe()
        if on_progress is not None:
            on_progress(value)
        if done(value):
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what}", value)
        sleep(min(interval, remaining))


# --------------------------------------------------------------------------- modules

def module_settings(module: Any) -> ConnectionSettings:
    """Connection settings from an AnsibleModule's params; fail_json on bad input."""
    try:
        return resolve_settings(module.params)
    except AWSSettingsError as exc:
        module.fail_json(msg=str(exc))
        raise  # fail_json exits; this keeps type checkers honest


def module_client(module: Any, service: str) -> Any:
    """A client for a module, failing the task with a clear message when it cannot."""
    try:
        return client(service, module_settings(module))
    except AWSSettingsError as exc:
        module.fail_json(msg=str(exc))
        raise
