"""ansible-doc renders every plugin's DOCUMENTATION / EXAMPLES / RETURN by its FQCN from the repo root."""
from __future__ import annotations

import os
import subprocess

import pytest

from plugin_harness import ROOT  # type: ignore[import-not-found]


@pytest.mark.parametrize(("args", "expected"), [
    (["autobuy.guard.asg_refresh"], ["checkpoint_percentages", "RETURN VALUES", "refresh_id", "EXAMPLES"]),
    (["autobuy.guard.acm_request"], ["validation_records", "subject_alternative_names", "EXAMPLES"]),
    (["autobuy.guard.aws_budget"], ["notifications", "threshold_type", "endpoint_url", "RETURN VALUES", "EXAMPLES"]),
    (["autobuy.guard.cloudfront_distribution"], ["caller_reference", "Quantity", "differences", "RETURN VALUES", "EXAMPLES"]),
    (["autobuy.guard.cloudfront_response_headers_policy"], ["SecurityHeadersConfig", "differences", "EXAMPLES"]),
    (["autobuy.guard.cloudfront_function"], ["cloudfront-js-2.0", "LIVE", "RETURN VALUES", "EXAMPLES"]),
    (["autobuy.guard.dynamodb_table_protection"], ["point_in_time_recovery", "endpoint_url", "RETURN VALUES", "EXAMPLES"]),
    (["-t", "lookup", "autobuy.guard.secrets_manager"], ["on_missing", "version_stage", "BatchGetSecretValue", "EXAMPLES"]),
    (["-t", "callback", "autobuy.guard.secrets_cache"], ["AUTOBUY_SECRETS_CACHE_SOCKET"]),
    (["-t", "callback", "autobuy.guard.ansiballz_cache"], ["AUTOBUY_ANSIBALLZ_CACHE", "autobuy-ansiballz"]),
    (["-t", "connection", "autobuy.guard.warm_local"], ["idle_timeout", "AUTOBUY_WARM_PYTHON", "pipelining"]),
])
def test_ansible_doc_renders(args: list[str], expected: list[str]) -> None:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-doc"), *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # no complaint about our plugin's documentation (warnings about others are not ours)
    assert not [line for line in out.stderr.splitlines() if args[-1] in line], out.stderr
    for text in expected:
        assert text in out.stdout, text
