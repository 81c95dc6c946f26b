"""Preflight of the delivery tier's variables (GitHub repository, branch or environment, OIDC)."""
from __future__ import annotations

from typing import Any

import pytest
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

from provision_helpers import ROOT, stack_defaults  # type: ignore[import-not-found]

if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([str(ROOT / "collections")])
from ansible_collections.autobuy.guard.plugins.filter import autobuy_preflight as preflight  # noqa: E402

GITHUB = {"autobuy_github_owner": "example-org", "autobuy_github_repository": "autobuy-guard"}


def test_the_delivery_defaults_are_valid() -> None:
    assert preflight.autobuy_stack_errors(stack_defaults()) == []
    assert preflight.autobuy_stack_errors(stack_defaults(**GITHUB)) == []
    assert preflight.autobuy_stack_errors(
        stack_defaults(**GITHUB, autobuy_github_environment="production")) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"autobuy_github_owner": "example-org"}, "are set together"),
        ({"autobuy_github_repository": "autobuy-guard"}, "are set together"),
        ({**GITHUB, "autobuy_github_owner": "-bad-"}, "autobuy_github_owner must be"),
        ({**GITHUB, "autobuy_github_repository": "org/repo"}, "autobuy_github_repository must be"),
        ({**GITHUB, "autobuy_github_ref": "main"}, "autobuy_github_ref must be a full branch or tag ref"),
        ({**GITHUB, "autobuy_github_ref": "refs/heads/*"}, "autobuy_github_ref must be"),
        ({**GITHUB, "autobuy_github_environment": "prod:*"}, "autobuy_github_environment must be"),
        ({"autobuy_github_oidc_url": "http://token.actions.githubusercontent.com"}, "autobuy_github_oidc_url"),
        ({"autobuy_github_oidc_thumbprints": ["abc"]}, "autobuy_github_oidc_thumbprints"),
        ({"autobuy_deploy_role_max_session": 60}, "autobuy_deploy_role_max_session"),
    ],
)
def test_preflight_names_the_bad_delivery_variable(change: dict[str, Any], expected: str) -> None:
    errors = preflight.autobuy_stack_errors(stack_defaults(**change))
    assert any(expected in e for e in errors), errors
