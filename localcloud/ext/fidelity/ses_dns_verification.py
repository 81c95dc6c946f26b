"""SES: a domain identity is verified, and its Easy DKIM set up, only through DNS.

moto verifies every domain identity at once with one fixed token, gives every domain
the same three DKIM tokens, always reports DKIM enabled and has no
``SetIdentityDkimEnabled`` (HTTP 500). As on AWS, here:

- ``VerifyDomainIdentity`` returns a token of the domain's own; the domain is ``Pending``
  until a TXT record ``_amazonses.DOMAIN`` holding that token is in a Route 53 hosted zone
  of the local cloud (same account), then ``Success``.
- ``VerifyDomainDkim`` returns three tokens of the domain's own and turns DKIM on;
  ``GetIdentityDkimAttributes`` reports ``NotStarted`` (no tokens), ``Pending`` or, once
  every ``TOKEN._domainkey.DOMAIN`` CNAME -> ``TOKEN.dkim.amazonses.com`` is in a zone,
  ``Success``; ``DkimEnabled`` is what ``VerifyDomainDkim``/``SetIdentityDkimEnabled`` set.
- ``SendEmail``/``SendRawEmail``/``SendTemplatedEmail`` from an address of a domain
  identity that is not verified yet are refused with ``MessageRejected``, as AWS refuses
  them. E-mail address identities keep moto's behaviour (verified at once).
"""
from __future__ import annotations

import functools
import secrets
import string
from email import message_from_string
from email.utils import parseaddr
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ses.exceptions import MessageRejectedError
from moto.ses.models import SESBackend
from moto.ses.responses import EmailResponse

from localcloud.route53_records import records

_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
_MARK = "_localcloud_ses_dns"


def _state(backend: SESBackend) -> dict[str, dict[str, Any]]:
    """Per domain: ``token``, ``dkim_tokens``, ``dkim_enabled`` (kept on the backend, so a
    reset of moto's state forgets it too)."""
    if not hasattr(backend, _MARK):
        setattr(backend, _MARK, {})
    return getattr(backend, _MARK)


def _domain_state(backend: SESBackend, domain: str) -> dict[str, Any]:
    return _state(backend).setdefault(domain.lower(), {})


def domain_verified(backend: SESBackend, domain: str) -> bool:
    token = _domain_state(backend, domain).get("token")
    return bool(token) and (f"_amazonses.{domain.lower()}", token.lower()) in records(backend.account_id, "TXT")


def dkim_status(backend: SESBackend, domain: str) -> str:
    tokens = _domain_state(backend, domain).get("dkim_tokens") or []
    if not tokens:
        return "NotStarted"
    needed = {(f"{t}._domainkey.{domain.lower()}", f"{t}.dkim.amazonses.com") for t in tokens}
    return "Success" if needed <= records(backend.account_id, "CNAME") else "Pending"


def _is_domain(backend: SESBackend, identity: str) -> bool:
    found = backend.email_identities.get(identity.lower()) or backend.email_identities.get(identity)
    return found is not None and found.identity_type == "DOMAIN"


def _refuse_unverified(backend: SESBackend, source: str | None) -> None:
    if not source:
        return
    address = parseaddr(source)[1]
    if address in backend.email_identities:
        return  # an e-mail address identity (moto verifies those at once)
    domain = address.split("@", 1)[-1].lower()
    if _is_domain(backend, domain) and not domain_verified(backend, domain):
        raise MessageRejectedError(
            f"Email address is not verified. The following identities failed the check in region "
            f"{backend.region_name.upper()}: {address}")


def verify_domain_identity(self: EmailResponse) -> ActionResult:
    domain = self._get_param("Domain").lower()
    self.backend.verify_domain(domain)
    state = _domain_state(self.backend, domain)
    state.setdefault("token", secrets.token_urlsafe(32)[:43] + "=")
    return ActionResult({"VerificationToken": state["token"]})


def verify_domain_dkim(self: EmailResponse) -> ActionResult:
    domain = self._get_param("Domain").lower()
    self.backend.verify_domain(domain)
    state = _domain_state(self.backend, domain)
    if not state.get("dkim_tokens"):
        state["dkim_tokens"] = ["".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(32))
                                for _ in range(3)]
        state["dkim_enabled"] = True
    return ActionResult({"DkimTokens": list(state["dkim_tokens"])})


def set_identity_dkim_enabled(self: EmailResponse) -> EmptyResult:
    identity = self._get_param("Identity")
    enabled = self._get_bool_param("DkimEnabled", False)
    if identity not in self.backend.email_identities:
        from moto.ses.exceptions import InvalidParameterValue

        raise InvalidParameterValue(f"Identity <{identity}> does not exist.")
    _domain_state(self.backend, identity)["dkim_enabled"] = enabled
    return EmptyResult()


def _get_identity_verification_attributes(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: SESBackend, identities: list[str] | None = None) -> dict[str, dict[str, str]]:
        result = original(self, identities=identities)
        for identity, attributes in result.items():
            if _is_domain(self, identity):
                state = _domain_state(self, identity)
                attributes["VerificationToken"] = state.setdefault("token", secrets.token_urlsafe(32)[:43] + "=")
                attributes["VerificationStatus"] = "Success" if domain_verified(self, identity) else "Pending"
        return result
    return wrapper


def _get_identity_dkim_attributes(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: SESBackend, identities: list[str]) -> dict[str, dict[str, Any]]:
        result = original(self, identities)
        for identity, attributes in result.items():
            if identity not in self.email_identities:
                attributes.update(DkimEnabled=False, DkimVerificationStatus="NotStarted")
                attributes.pop("DkimTokens", None)
            elif _is_domain(self, identity):
                state = _domain_state(self, identity)
                attributes["DkimEnabled"] = bool(state.get("dkim_enabled"))
                attributes["DkimVerificationStatus"] = dkim_status(self, identity)
                if state.get("dkim_tokens"):
                    attributes["DkimTokens"] = list(state["dkim_tokens"])
                else:
                    attributes.pop("DkimTokens", None)
        return result
    return wrapper


def _checked_send(original: Any, source_of: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: SESBackend, *args: Any, **kwargs: Any) -> Any:
        _refuse_unverified(self, source_of(*args, **kwargs))
        return original(self, *args, **kwargs)
    return wrapper


def _raw_source(source: str | None = None, destinations: Any = None, raw_data: str = "",
                *_: Any, **__: Any) -> str | None:
    return source or message_from_string(raw_data or "")["From"]


def _source(source: str | None = None, *_: Any, **__: Any) -> str | None:
    return source


def apply() -> None:
    if getattr(SESBackend, _MARK + "_applied", False):
        return
    EmailResponse.verify_domain_identity = verify_domain_identity  # type: ignore[method-assign]
    EmailResponse.verify_domain_dkim = verify_domain_dkim  # type: ignore[method-assign]
    EmailResponse.set_identity_dkim_enabled = set_identity_dkim_enabled  # type: ignore[attr-defined]
    SESBackend.get_identity_verification_attributes = _get_identity_verification_attributes(  # type: ignore[method-assign]
        SESBackend.get_identity_verification_attributes)
    SESBackend.get_identity_dkim_attributes = _get_identity_dkim_attributes(  # type: ignore[method-assign]
        SESBackend.get_identity_dkim_attributes)
    SESBackend.send_raw_email = _checked_send(SESBackend.send_raw_email, _raw_source)  # type: ignore[method-assign]
    SESBackend.send_email = _checked_send(SESBackend.send_email, _source)  # type: ignore[method-assign]
    SESBackend.send_templated_email = _checked_send(  # type: ignore[method-assign]
        SESBackend.send_templated_email, _source)
    setattr(SESBackend, _MARK + "_applied", True)
