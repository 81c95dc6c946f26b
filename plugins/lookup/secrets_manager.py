# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup: read AWS Secrets Manager secrets once per playbook run."""
from __future__ import annotations

DOCUMENTATION = r"""
name: secrets_manager
short_description: Read AWS Secrets Manager secrets, once per playbook run
description:
  - Returns the value of each secret named by a term (a name or a full ARN, also of
    another account). A JSON secret is returned parsed; O(key) selects one field.
  - Each secret is read from AWS at most once per playbook run, across tasks, hosts
    and forks, when the C(autobuy.guard.secrets_cache) callback is enabled (ansible.cfg
    C(callbacks_enabled)); without it the cache is per worker process.
  - Several terms of one lookup are read with one C(BatchGetSecretValue) call
    (C(AWSCURRENT) versions; falls back to C(GetSecretValue) when batching is not allowed).
  - Values are returned unsafe (never templated again) and the plugin never logs them.
    Mark tasks that use them with C(no_log=true).
  - Throttling is retried with jittered exponential backoff before the lookup fails.
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  _terms:
    description: Secret names, or full ARNs (a secret of another account needs its ARN).
    required: true
    type: list
    elements: str
  key:
    description:
      - Return only this field of a JSON secret. A dotted path (C(db.primary.host))
        walks nested objects; a number selects a list element. A top-level key that
        itself contains dots is matched first.
      - Fails when the secret is not JSON, or names the keys that exist when the key does not.
    type: str
  version_stage:
    description: Version stage to read, for example C(AWSPREVIOUS). Default is C(AWSCURRENT).
    type: str
  version_id:
    description: Version id to read.
    type: str
  on_missing:
    description: What to do when a secret does not exist.
    type: str
    choices: [error, warn, skip]
    default: error
  on_denied:
    description: What to do when access to a secret is denied.
    type: str
    choices: [error, warn, skip]
    default: error
  region:
    description:
      - AWS region. A full ARN's own region always wins.
    type: str
    env:
      - name: AWS_REGION
      - name: AWS_DEFAULT_REGION
  endpoint_url:
    description: AWS endpoint URL, for example C(http://127.0.0.1:4566) for the local cloud.
    type: str
    env:
      - name: AWS_ENDPOINT_URL
  profile:
    description: Named AWS profile.
    type: str
    env:
      - name: AWS_PROFILE
      - name: AWS_DEFAULT_PROFILE
  access_key:
    description: AWS access key id.
    type: str
    env:
      - name: AWS_ACCESS_KEY_ID
  secret_key:
    description: AWS secret access key.
    type: str
    env:
      - name: AWS_SECRET_ACCESS_KEY
  session_token:
    description: AWS session token.
    type: str
    env:
      - name: AWS_SESSION_TOKEN
  assume_role_arn:
    description: IAM role to assume before reading (cross-account reads).
    type: str
    env:
      - name: AWS_ASSUME_ROLE_ARN
  assume_role_session_name:
    description: Session name of the assumed role (default C(autobuy-guard)).
    type: str
    env:
      - name: AWS_ROLE_SESSION_NAME
notes:
  - A skipped term (O(on_missing=skip) or O(on_denied=skip), or C(warn)) yields no element.
  - Binary secrets are returned base64-encoded; O(key) does not apply to them.
"""

EXAMPLES = r"""
- name: Render the database settings (the whole JSON secret as a dict)
  ansible.builtin.template:
    src: db.env.j2
    dest: /etc/autobuy/db.env
    mode: "0600"
  vars:
    db: "{{ lookup('autobuy.guard.secrets_manager', 'taskapp/database') }}"
  no_log: true

- name: One field
  ansible.builtin.set_fact:
    db_password: "{{ lookup('autobuy.guard.secrets_manager', 'taskapp/database', key='password') }}"
  no_log: true

- name: Two secrets with one BatchGetSecretValue call
  ansible.builtin.set_fact:
    secrets: "{{ query('autobuy.guard.secrets_manager', 'taskapp/database', 'taskapp/app') }}"
  no_log: true

- name: Another account's secret through an assumed role, tolerate absence
  ansible.builtin.set_fact:
    shared: >-
      {{ lookup('autobuy.guard.secrets_manager',
                'arn:aws:secretsmanager:eu-west-1:210987654321:secret:shared/api-AbCdEf',
                assume_role_arn='arn:aws:iam::210987654321:role/secrets-reader',
                key='token', on_missing='warn') }}
  no_log: true

- name: The previous version
  ansible.builtin.set_fact:
    old_password: >-
      {{ lookup('autobuy.guard.secrets_manager', 'taskapp/database', key='password',
                version_stage='AWSPREVIOUS') }}
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One element per term, in order (skipped terms yield nothing). A JSON secret is
      returned parsed (dict, list, ...), other secrets as a string; with O(key), the field.
  type: list
  elements: raw
"""

import base64  # noqa: E402
import json  # noqa: E402
from typing import Any, Optional  # noqa: E402

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible.utils.display import Display  # noqa: E402
from ansible.utils.unsafe_proxy import wrap_var  # noqa: E402

from ansible_collections.autobuy.guard.plugins.plugin_utils import secrets_cache as cache  # noqa: E402

display = Display()

_CONNECTION_OPTIONS = ("region", "endpoint_url", "profile", "access_key", "secret_key",
                       "session_token", "assume_role_arn", "assume_role_session_name")
_MISSING_CODES = frozenset({"ResourceNotFoundException"})


class SecretKeyError(AnsibleLookupError):
    """A key was asked of a secret that does not have it (or is not JSON)."""


def parse_secret(result: Any) -> Any:
    """The secret's value: parsed JSON when it is JSON, base64 text for binary."""
    if result.binary is not None:
        return base64.b64encode(result.binary).decode()
    text = result.string or ""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _describe_keys(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(sorted(str(k) for k in value)) or "(none)"
    if isinstance(value, list):
        return f"list indexes 0..{len(value) - 1}" if value else "(empty list)"
    return f"(a {type(value).__name__}, not an object)"


def select_key(value: Any, key: str, secret: str) -> Any:
    """Walk ``key`` (dotted path) into a parsed secret; errors name keys, never values."""
    if not isinstance(value, (dict, list)):
        raise SecretKeyError(
            f"secret {secret!r} is not a JSON object, so key {key!r} cannot be selected from it")
    if isinstance(value, dict) and key in value:
        return value[key]
    current, walked = value, []
    for part in key.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            where = ".".join(walked) or "the top level"
            raise SecretKeyError(
                f"secret {secret!r} has no key {part!r} at {where} (asked for {key!r}); "
                f"keys there: {_describe_keys(current)}")
        walked.append(part)
    return current


class LookupModule(LookupBase):
    """See DOCUMENTATION."""

    def run(self, terms: list[Any], variables: Optional[dict[str, Any]] = None, **kwargs: Any) -> list[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        requests = [self._request(term) for term in terms]
        settings = self._settings()
        results = cache.get_secrets(settings, requests, warn=display.vvv)
        values: list[Any] = []
        for request, result in zip(requests, results):
            if not result.ok:
                self._handle_error(request.secret_id, result)
                continue
            value = parse_secret(result)
            key = self.get_option("key")
            if key:
                if result.binary is not None:
                    raise SecretKeyError(f"secret {request.secret_id!r} is binary; key {key!r} does not apply")
                value = select_key(value, key, request.secret_id)
            values.append(wrap_var(value))
        return values

    def _request(self, term: Any) -> Any:
        if not isinstance(term, str) or not term.strip():
            raise AnsibleLookupError(f"secrets_manager: a secret name or ARN is required, got {term!r}")
        return cache.SecretRequest(
            secret_id=term.strip(),
            version_stage=self.get_option("version_stage") or None,
            version_id=self.get_option("version_id") or None,
        )

    def _settings(self) -> Any:
        options = {name: self.get_option(name) for name in _CONNECTION_OPTIONS}
        try:
            return cache.aws.resolve_settings(options)
        except cache.aws.AWSSettingsError as exc:
            raise AnsibleLookupError(f"secrets_manager: {exc}") from exc

    def _handle_error(self, secret: str, result: Any) -> None:
        code = result.error_code
        if code in _MISSING_CODES:
            policy, what = self.get_option("on_missing"), "was not found"
        elif code in cache.aws.ACCESS_DENIED_ERROR_CODES:
            policy, what = self.get_option("on_denied"), "could not be read: access denied"
        else:
            if code in cache.aws.RETRYABLE_ERROR_CODES:
                raise AnsibleLookupError(
                    f"secrets_manager: reading {secret!r} was throttled ({code}) and still failed "
                    f"after retries with backoff: {result.error_message}")
            raise AnsibleLookupError(
                f"secrets_manager: reading {secret!r} failed ({code}): {result.error_message}")
        message = f"secrets_manager: secret {secret!r} {what} ({code})"
        if policy == "error":
            raise AnsibleLookupError(f"{message}: {result.error_message}")
        if policy == "warn":
            display.warning(message)
