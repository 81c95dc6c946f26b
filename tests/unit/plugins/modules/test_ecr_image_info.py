"""ecr_image_info against the local cloud: found tags, missing tags, a missing repository."""
from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import boto3
import pytest

from ansible_collections.autobuy.guard.plugins.modules import ecr_image_info
from plugin_harness import ModuleFailed, run_module  # type: ignore[import-not-found]


def run(args: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    return run_module(ecr_image_info, args, monkeypatch=monkeypatch)


def repository_with(tag: str) -> str:
    name = f"r-{uuid.uuid4().hex[:8]}"
    ecr = boto3.client("ecr")
    ecr.create_repository(repositoryName=name)
    manifest = json.dumps({"schemaVersion": 2,
                           "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                                      "digest": "sha256:" + hashlib.sha256(name.encode()).hexdigest()},
                           "layers": []})
    ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag=tag)
    return name


def test_reports_found_and_missing_tags(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = repository_with("v1")
    result = run({"repository": name, "image_tags": ["v1", "v2"]}, monkeypatch)
    assert result["changed"] is False
    assert [i["tag"] for i in result["images"]] == ["v1"]
    assert result["images"][0]["digest"].startswith("sha256:")
    assert result["missing"] == ["v2"]
    assert result["repository_uri"].endswith("/" + name)


def test_a_missing_repository_fails_naming_it(localcloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleFailed) as failed:
        run({"repository": "no-such-repository", "image_tags": ["v1"]}, monkeypatch)
    assert "no-such-repository" in failed.value.result["msg"]
