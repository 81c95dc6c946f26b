"""Item URL validation: the one place the API asks whether a URL may be tracked."""
from __future__ import annotations

from autobuy.engine.urlguard import UnsafeURLError, check_url
from autobuy.errors import InvalidInput


def validate_item_url(url: str, allow_hosts: frozenset[str] = frozenset()) -> str:
    """The normalised URL, or InvalidInput with the guard's user-readable reason."""
    try:
        return check_url(url, allow_hosts=allow_hosts)
    except UnsafeURLError as exc:
        raise InvalidInput(f"url: {exc}") from None
