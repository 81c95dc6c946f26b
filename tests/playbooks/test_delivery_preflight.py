"""Preflight of the delivery tier's variables (GitHub repository, branch or environment, OIDC)."""
from __future__ import annotations

from typing import Any

import pytest
import yaml
from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

from provision_helpers import ROOT  # type: ignore[import-not-found]

if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([str(ROOT / "collections")])
from ansible_collections.autobuy.guard.plugins.filter import autobuy_preflight as preflight  # noqa: E402

STACK = ROOT / "inventories" / "aws" / "group_vars" / "all" / "stack.yml"
GITHUB = {"autobuy_github_owner": "example-org", "autobuy_github_repository": "autobuy-guard"}


def stack_values(**change: Any) -> dict[str, Any]:
    values = yaml.safe_load(STACK.read_text())
    values.update({"aws_endpoint_url": "http://127.0.0.1:4566",
                   "autobuy_zone_name": values["autobuy_domain"],
                   "autobuy_api_record": "api." + values["autobuy_domain"],
                   "autobuy_certificate_domain": "*." + values["autobuy_domain"],
                   "autobuy_mail_domain": values["autobuy_domain"],
                   "autobuy_alerts_from": "alerts@" + values["autobuy_domain"]})
    values.update(change)
    return values


def test_the_delivery_defaults_are_valid() -> None:
    assert preflight.autobuy_stack_errors(stack_values()) == []
    assert preflight.autobuy_stack_errors(stack_values(**GITHUB)) == []
    assert preflight.autobuy_stack_errors(
        stack_values(**GITHUB, autobuy_github_environment="production")) == []


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
    errors = preflight.autobuy_stack_errors(stack_values(**change))
    assert any(expected in e for e in errors), errors
