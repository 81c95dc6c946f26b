"""The collection artefact: `ansible-galaxy collection build` holds the collection and
nothing else, and once installed somewhere else (no project ansible.cfg, no repository
on any path) ansible-doc renders our module and lookup by their FQCN."""
from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from plugin_harness import ROOT  # type: ignore[import-not-found]

BIN = ROOT / ".venv" / "bin"


@pytest.fixture(scope="module")
def artefact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=120)
    (built,) = out.glob("autobuy-guard-*.tar.gz")
    return built


def test_the_artefact_holds_only_the_collection(artefact: Path) -> None:
    with tarfile.open(artefact) as tar:
        tops = {name.split("/", 1)[0] for name in tar.getnames()}
        names = tar.getnames()
    assert tops == {"CHANGELOG.md", "FILES.json", "MANIFEST.json", "README.md", "docs", "meta", "playbooks",
                    "plugins", "roles"}
    assert "plugins/modules/asg_refresh.py" in names and "roles/app/tasks/main.yml" in names
    assert not [n for n in names if "/molecule" in n or "__pycache__" in n or n.endswith(".pyc")]


def test_installed_elsewhere_ansible_doc_renders(artefact: Path, tmp_path: Path) -> None:
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_NOCOLOR="1")
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--no-deps", "-p",
                              str(tmp_path / "collections"), str(artefact)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    installed = tmp_path / "collections" / "ansible_collections" / "autobuy" / "guard"
    for args, expected in ((["autobuy.guard.asg_refresh"], ["poll_interval", "RETURN VALUES", "progress"]),
                           (["-t", "lookup", "autobuy.guard.secrets_manager"], ["on_missing", "EXAMPLES"])):
        out = subprocess.run([str(BIN / "ansible-doc"), *args], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert str(installed) in out.stdout  # the installed copy, not the repository
        for text in expected:
            assert text in out.stdout, text
