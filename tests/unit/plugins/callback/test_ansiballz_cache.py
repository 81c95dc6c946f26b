"""ansiballz_cache: the cache key follows the module sources; the run's cache directory
becomes the persistent one; old caches are pruned; a real run fills and reuses it."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.autobuy.guard.plugins.callback import ansiballz_cache as cache

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module path and a module_utils path of our own."""
    (tmp_path / "modules").mkdir()
    (tmp_path / "module_utils").mkdir()
    (tmp_path / "modules" / "thing.py").write_text("print(1)\n")
    (tmp_path / "module_utils" / "util.py").write_text("X = 1\n")
    monkeypatch.setattr(cache.C, "DEFAULT_MODULE_PATH", [str(tmp_path / "modules")])
    monkeypatch.setattr(cache.C, "DEFAULT_MODULE_UTILS_PATH", [str(tmp_path / "module_utils")])
    monkeypatch.setattr(cache.C, "DEFAULT_ROLES_PATH", [str(tmp_path / "roles")])
    return tmp_path


def test_the_key_follows_every_source_file(sources: Path) -> None:
    first = cache.source_key(str(sources))
    assert cache.source_key(str(sources)) == first
    util = sources / "module_utils" / "util.py"
    util.write_text("X = 2\n")
    os.utime(util, ns=(util.stat().st_atime_ns, util.stat().st_mtime_ns + 10**9))
    second = cache.source_key(str(sources))
    assert second != first
    (sources / "modules" / "new.py").write_text("")
    assert cache.source_key(str(sources)) != second
    (sources / "roles" / "r" / "library").mkdir(parents=True)
    third = cache.source_key(str(sources))
    (sources / "roles" / "r" / "library" / "role_module.py").write_text("")
    assert cache.source_key(str(sources)) != third


def test_attach_links_the_run_cache_and_prunes_old_ones(tmp_path: Path) -> None:
    root = tmp_path / "home" / "autobuy-ansiballz"
    for age, name in enumerate(["old1", "old2", "old3", "old4", "old5"]):
        (root / name).mkdir(parents=True)
        os.utime(root / name, (1000 + age, 1000 + age))
    run_tmp = tmp_path / "ansible-local-1"
    run_tmp.mkdir()
    attached = cache.attach(str(run_tmp), root, "newkey")
    assert attached == root / "newkey"
    assert (run_tmp / "ansiballz_cache").resolve() == attached
    assert oct(root.stat().st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in root.iterdir()) == ["newkey", "old3", "old4", "old5"]


def test_a_cache_in_use_by_a_running_playbook_is_not_pruned(tmp_path: Path) -> None:
    # Every checkout shares ANSIBLE_HOME: runs of other worktrees attach newer caches while a
    # long `make local` still builds payloads into its own, the oldest. Pruning it left the
    # run's link dangling, and every later module failed with [Errno 17] File exists:
    # '<local_tmp>/ansiballz_cache' (ansible-core's makedirs on the dangling link).
    root = tmp_path / "home" / "autobuy-ansiballz"
    long_run = tmp_path / "ansible-local-long"
    long_run.mkdir()
    used = cache.attach(str(long_run), root, "long")
    os.utime(used, (1000, 1000))  # the oldest of all, as after hours of other runs
    idle = root / "idle"
    idle.mkdir()
    os.utime(idle, (999, 999))
    for n in range(cache.KEEP):
        other = tmp_path / f"ansible-local-{n}"
        other.mkdir()
        cache.attach(str(other), root, f"newer{n}")

    assert used.is_dir() and (long_run / "ansiballz_cache").resolve() == used
    assert not idle.exists()
    # a run holds its cache: an exclusive lock (a prune's) is refused while it runs
    fd = os.open(used / cache.IN_USE, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_attach_survives_ansible_making_its_cache_at_the_same_moment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ansible-core creates local_tmp/ansiballz_cache itself when it builds a payload; when
    # that happens just before the link is made, attaching must not fail the run
    # ([Errno 17] File exists, seen once during a converge).
    run_tmp = tmp_path / "ansible-local-2"
    run_tmp.mkdir()
    original = Path.symlink_to

    def ansible_got_there_first(self: Path, *args: Any, **kwargs: Any) -> None:
        self.mkdir(exist_ok=True)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "symlink_to", ansible_got_there_first)
    cache.attach(str(run_tmp), tmp_path / "home" / "autobuy-ansiballz", "key")
    assert (run_tmp / "ansiballz_cache").is_dir() and not (run_tmp / "ansiballz_cache").is_symlink()

@pytest.mark.slow
@pytest.mark.playbook
def test_a_second_run_reuses_the_payloads(tmp_path: Path) -> None:
    home = tmp_path / "ansible-home"
    playbook = tmp_path / "ping.yml"
    playbook.write_text("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n")
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_HOME": str(home),
           "AUTOBUY_WARM_PYTHON": "false"}
    inventory = ROOT / "inventories" / "local" / "hosts.yml"
    runs = []
    for _ in range(2):
        run = subprocess.run([sys.executable, str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory),
                              str(playbook)], cwd=ROOT, env={**env, "ANSIBLE_DEBUG": "1"},
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        runs.append(run.stdout + run.stderr)
    caches = list((home / "autobuy-ansiballz").iterdir())
    assert len(caches) == 1
    assert list(caches[0].glob("ansible.modules.ping-*"))
    assert "ANSIBALLZ: Creating module" in runs[0]
    assert "ANSIBALLZ: Creating module" not in runs[1]
    assert "ANSIBALLZ: using cached module" in runs[1]


def test_the_key_follows_a_collection_used_from_its_source_tree(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Our own collection (collections/ links to the repository) has no MANIFEST.json:
    an edit of one of its module_utils must start a new cache."""
    plugins = tmp_path / "cols" / "ansible_collections" / "autobuy" / "guard" / "plugins"
    (plugins / "module_utils").mkdir(parents=True)
    shared = plugins / "module_utils" / "shared.py"
    shared.write_text("X = 1\n")
    monkeypatch.setattr(cache.C, "COLLECTIONS_PATHS", [str(tmp_path / "cols")])
    first = cache.source_key(str(tmp_path))
    shared.write_text("X = 22\n")
    assert cache.source_key(str(tmp_path)) != first


class FakeVariables:
    def __init__(self, values: dict[str, object]) -> None:
        self.values = values
        self._inventory = self

    def get_host(self, name: str) -> str:
        return name

    def get_vars(self, play: object, host: object, include_hostvars: bool) -> dict[str, object]:
        assert host == "localhost"
        return self.values


class FakePlay:
    def __init__(self, **values: object) -> None:
        self.manager = FakeVariables(values)

    def get_variable_manager(self) -> FakeVariables:
        return self.manager


@pytest.mark.parametrize(("values", "untested", "attached"), [
    ({"autobuy_controller_speedups": True}, None, True),
    ({}, None, True),  # undefined: on (the project's callbacks_enabled opted in)
    ({"autobuy_controller_speedups": False}, None, False),  # inventories/aws
    ({"autobuy_controller_speedups": "false"}, None, False),
    ({"autobuy_controller_speedups": True}, "not tested with ansible-core 9.9", False),
])
def test_attached_only_when_wanted_and_on_a_tested_core(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: dict[str, object], untested: str | None,
        attached: bool) -> None:
    run_tmp = tmp_path / "ansible-local-1"
    run_tmp.mkdir()
    monkeypatch.setattr(cache.C, "DEFAULT_LOCAL_TMP", str(run_tmp))
    monkeypatch.setattr(cache.C, "ANSIBLE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cache, "untested", lambda plugin: untested)
    monkeypatch.setattr(cache, "source_key", lambda playbook_dir: "key")
    monkeypatch.delenv("AUTOBUY_ANSIBALLZ_CACHE", raising=False)
    warnings: list[str] = []
    callback = cache.CallbackModule()
    monkeypatch.setattr(callback._display, "warning", warnings.append)
    callback.v2_playbook_on_play_start(FakePlay(**values))
    callback.v2_playbook_on_play_start(FakePlay(**values))  # decided once per run
    assert (run_tmp / "ansiballz_cache").is_symlink() is attached
    assert warnings == ([untested] if untested else [])
