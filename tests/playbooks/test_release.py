"""make release: the tag of a commit or of a dirty tree, and the push of playbooks/release.yml on the twin."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import launch
from localcloud.twin import IMAGES as TWIN_IMAGES
from provision_helpers import ROOT, client, run_playbook  # type: ignore[import-not-found]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A one-commit repository holding scripts/release.sh."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "release.sh", tmp_path / "scripts" / "release.sh")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "one")
    return tmp_path


def release_tag(repo: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(repo / "scripts" / "release.sh"), "--tag"], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", **env}, check=False)


def test_a_clean_tree_is_tagged_with_its_commit(repo: Path) -> None:
    run = release_tag(repo)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == git(repo, "rev-parse", "HEAD")


def test_a_dirty_tree_is_refused(repo: Path) -> None:
    (repo / "new.txt").write_text("not committed\n")
    run = release_tag(repo)
    assert run.returncode != 0
    assert "uncommitted changes" in run.stderr and "RELEASE_ALLOW_DIRTY=1" in run.stderr


def test_settings_baked_into_the_image_get_a_tag_of_their_own(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    run = release_tag(repo, RELEASE_IMAGE_ENV="GUNICORN_BIND=127.0.0.1:5000")
    assert run.returncode == 0, run.stderr
    digest = hashlib.sha256(b"GUNICORN_BIND=127.0.0.1:5000\n").hexdigest()[:12]
    assert run.stdout.strip() == f"{sha}-env-{digest}"
    other = release_tag(repo, RELEASE_IMAGE_ENV="GUNICORN_BIND=0.0.0.0:5000")
    assert other.stdout.strip() not in (sha, run.stdout.strip())


def test_a_malformed_image_setting_is_refused(repo: Path) -> None:
    run = release_tag(repo, RELEASE_IMAGE_ENV="gunicorn_bind")
    assert run.returncode == 2
    assert "RELEASE_IMAGE_ENV entries are NAME=value" in run.stderr and "gunicorn_bind" in run.stderr


def test_a_dirty_tree_allowed_gets_a_tag_no_commit_can_have(repo: Path) -> None:
    (repo / "scripts" / "release.sh").write_text((repo / "scripts" / "release.sh").read_text() + "\n")
    run = release_tag(repo, RELEASE_ALLOW_DIRTY="1")
    assert run.returncode == 0, run.stderr
    sha = git(repo, "rev-parse", "HEAD")
    assert re.fullmatch(rf"{sha}-dirty-\d{{8}}T\d{{6}}Z", run.stdout.strip()), run.stdout


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    images = [*TWIN_IMAGES.values(), "taskapp-backend:latest"]
    if subprocess.run(["docker", "image", "inspect", *images],
                      capture_output=True, check=False).returncode != 0:
        pytest.skip(f"needs `make twin-images` ({', '.join(images)})")
    state = tmp_path_factory.mktemp("release_twin")
    with launch.running(settings={"LOCALCLOUD_TWIN": "on", "LOCALCLOUD_STATE_DIR": str(state)},
                        log=state / "localcloud.log") as cloud:
        yield cloud.url


@pytest.mark.slow
@pytest.mark.playbook
@pytest.mark.localcloud
@pytest.mark.docker
def test_release_pushes_a_missing_tag_once(twin: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))  # logins stay out of ~/.docker
    client("ecr", twin).create_repository(repositoryName="taskapp-backend")
    with urllib.request.urlopen(twin + "/localcloud/twin", timeout=30) as resp:
        registry = json.load(resp)["registry"]
    tag = "test-" + uuid.uuid4().hex[:8]
    extra = {"autobuy_image_tag": tag, "autobuy_release_registry": registry}
    run = run_playbook("playbooks/release.yml", twin, extra=extra)
    assert run.returncode == 0, run.output[-4000:]
    assert run.recap["changed"] >= 1
    details = client("ecr", twin).describe_images(
        repositoryName="taskapp-backend", imageIds=[{"imageTag": tag}])["imageDetails"]
    assert len(details) == 1 and details[0]["imageSizeInBytes"] > 1_000_000
    pushed_at = details[0]["imagePushedAt"]
    again = run_playbook("playbooks/release.yml", twin, extra=extra)
    assert again.returncode == 0 and again.recap["changed"] == 0, again.output[-4000:]
    assert client("ecr", twin).describe_images(
        repositoryName="taskapp-backend", imageIds=[{"imageTag": tag}])["imageDetails"][0]["imagePushedAt"] == pushed_at
