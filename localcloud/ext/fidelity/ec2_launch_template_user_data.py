"""EC2: user data of launch template versions is stored as CreateLaunchTemplate stores it.

``CreateLaunchTemplate`` wraps ``UserData`` in moto's ``Base64EncodedString`` but
``CreateLaunchTemplateVersion`` stores the raw string; an Auto Scaling group launching
from such a version then fails with ``AssertionError`` (HTTP 500) in
``LaunchTemplateVersion.user_data``. Every new version's user data is parsed the way
``CreateLaunchTemplate`` does (invalid base64 answers ``InvalidUserData.Malformed`` as
on AWS).
"""
from __future__ import annotations

import functools
from typing import Any


def apply() -> None:
    """Install the gap fill (idempotent)."""
    from moto.ec2.models.launch_templates import LaunchTemplate
    from moto.ec2.utils import parse_user_data

    original = LaunchTemplate.create_version
    if getattr(original, "_autobuy_provision", False):
        return

    @functools.wraps(original)
    def create_version(self: Any, data: dict[str, Any], description: str) -> Any:
        if isinstance(data.get("UserData"), str):
            data = {**data, "UserData": parse_user_data(data["UserData"])}
        return original(self, data, description)

    create_version._autobuy_provision = True  # type: ignore[attr-defined]
    LaunchTemplate.create_version = create_version  # type: ignore[method-assign]
