# -*- coding: utf-8 -*-
# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callback: keep the built AnsiballZ module payloads from one run to the next."""
from __future__ import annotations

DOCUMENTATION = r"""
name: ansiballz_cache
type: aggregate
short_description: Reuse built module payloads across playbook runs while their sources are unchanged
description:
  - Before a module runs, Ansible builds its payload (AnsiballZ) by parsing the module and,
    recursively, every module_utils file it imports. Ansible caches the result only in the
    run's private temporary directory, so every run parses the same files again; for a
    converge of the stack (about 30 distinct AWS modules, each importing about 70
    module_utils files) that is about 8 s of CPU.
  - When the playbook starts, this callback points the run's cache directory
    (C(<local_tmp>/ansiballz_cache)) at a persistent one,
    C(<ANSIBLE_HOME>/autobuy-ansiballz/KEY), where KEY is a digest of the ansible-core and
    Python versions and of the size and modification time of every file in the configured
    module and module_utils paths, the playbook's and roles' C(library)/C(module_utils)
    directories, and the installed packages and collections (their directories and
    manifests; every plugin file of a collection used from its source tree, such as this
    one through the repository's C(collections/) link). Any change there starts a new,
    empty cache; the four most recently used ones are kept, and never one that a running
    playbook uses (each run holds a shared lock on its cache's C(.in-use) file until it
    exits; runs of other checkouts or worktrees share C(ANSIBLE_HOME), so a long run's
    cache may be the oldest one while it is still in use).
  - In-place edits of files inside an installed collection are not detected; remove
    C(<ANSIBLE_HOME>/autobuy-ansiballz) after such an edit, or set
    E(AUTOBUY_ANSIBALLZ_CACHE=off) to turn the callback off.
  - Enabled by C(callbacks_enabled = autobuy.guard.ansiballz_cache) (the project's
    C(ansible.cfg)); it prints nothing. It acts only when the inventory's
    C(autobuy_controller_speedups) is true for C(localhost) (or undefined);
    C(inventories/local) sets it true, C(inventories/aws) false, C(-e
    autobuy_controller_speedups=true) turns it on there.
  - It replaces a directory that is private to ansible-core. On an ansible-core series
    it was not tested with (see C(plugins/plugin_utils/core_compat.py)) it warns and
    leaves the stock per-run cache alone.
author: AutoBuy Guard contributors (@autobuy-guard)
"""

import fcntl  # noqa: E402
import glob  # noqa: E402
import hashlib  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Iterable, Iterator  # noqa: E402

from ansible import constants as C  # noqa: E402
from ansible.module_utils.parsing.convert_bool import boolean  # noqa: E402
from ansible.release import __version__ as ansible_version  # noqa: E402

from ansible_collections.autobuy.guard.plugins.plugin_utils.aggregate_callback import AggregateCallback  # noqa: E402
from ansible_collections.autobuy.guard.plugins.plugin_utils.core_compat import untested  # noqa: E402

KEEP = 4


def _files(directory: str) -> Iterator[tuple[str, int, int]]:
    """(path, size, mtime) of every file under ``directory``."""
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            path = os.path.join(root, name)
            try:
                info = os.stat(path)
            except OSError:
                continue
            yield path, info.st_size, info.st_mtime_ns


def _stamps(paths: Iterable[str]) -> Iterator[tuple[str, int]]:
    for path in paths:
        try:
            yield path, os.stat(path).st_mtime_ns
        except OSError:
            continue


def source_key(playbook_dir: str) -> str:
    """Digest of everything a payload is built from (see DOCUMENTATION)."""
    digest = hashlib.sha256(f"{ansible_version}\0{sys.version}".encode())
    trees = [*C.DEFAULT_MODULE_PATH, *C.DEFAULT_MODULE_UTILS_PATH,
             os.path.join(playbook_dir, "library"), os.path.join(playbook_dir, "module_utils")]
    for roles in C.DEFAULT_ROLES_PATH:
        trees += glob.glob(os.path.join(roles, "*", "library"))
        trees += glob.glob(os.path.join(roles, "*", "module_utils"))
    for tree in sorted(set(trees)):
        for entry in _files(tree):
            digest.update(repr(entry).encode())
    installed = [p for p in sys.path if os.path.isdir(p)] + list(C.COLLECTIONS_PATHS)
    for base in installed:
        digest.update(repr(list(_stamps([base, os.path.join(base, "ansible")]))).encode())
        collections = sorted(glob.glob(os.path.join(base, "ansible_collections", "*", "*")))
        manifests = [os.path.join(c, "MANIFEST.json") for c in collections]
        digest.update(repr(list(_stamps(collections + manifests))).encode())
        for collection in collections:
            # A collection used from its source tree (ours, through collections/) has no
            # manifest and is edited in place: every file of its plugins counts.
            if not os.path.exists(os.path.join(collection, "MANIFEST.json")):
                for entry in _files(os.path.join(collection, "plugins")):
                    digest.update(repr(entry).encode())
    return digest.hexdigest()[:24]


IN_USE = ".in-use"
#: The lock descriptors of the caches this process uses: open until the process exits.
_HELD: list[int] = []


def _lock(cache: Path, operation: int) -> int | None:
    """An open descriptor of ``cache``'s in-use file locked with ``operation``; None when
    the cache is gone or (non-blocking) someone else holds a conflicting lock."""
    try:
        fd = os.open(cache / IN_USE, os.O_RDONLY | os.O_CREAT, 0o600)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        fcntl.flock(fd, operation)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def hold(cache: Path) -> bool:
    """Mark ``cache`` used by this process (a shared lock kept until it exits): ``prune`` of
    any run leaves it alone. False when a prune removed it meanwhile."""
    fd = _lock(cache, fcntl.LOCK_SH)
    if fd is None:
        return False
    try:
        same = os.stat(cache / IN_USE).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        same = False
    if not same:  # a prune held it and removed the directory while we waited
        os.close(fd)
        return False
    _HELD.append(fd)
    return True


def prune(root: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` most recently used caches, except those in use."""
    caches = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in caches[keep:]:
        fd = _lock(old, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if fd is None:
            continue  # a running playbook's cache
        try:
            shutil.rmtree(old, ignore_errors=True)
        finally:
            os.close(fd)


def attach(local_tmp: str, root: Path, key: str) -> Path:
    """Make ``local_tmp/ansiballz_cache`` the persistent cache ``root/key``."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    cache = root / key
    for _attempt in range(3):
        cache.mkdir(mode=0o700, exist_ok=True)
        os.utime(cache)  # most recently used
        if hold(cache):
            break
    else:
        raise OSError(f"{cache} was removed three times while being attached")
    link = Path(local_tmp) / "ansiballz_cache"
    try:
        link.symlink_to(cache, target_is_directory=True)
    except FileExistsError:
        # ansible-core made its own cache there first (a payload built before this
        # callback ran): this run keeps that one; the next run attaches ours.
        pass
    prune(root)
    return cache


class CallbackModule(AggregateCallback):
    """Attaches the persistent payload cache when the playbook starts."""

    CALLBACK_NAME = "ansiballz_cache"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decided = False
        self._playbook_dir = "."

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self._playbook_dir = playbook._basedir  # pylint: disable=protected-access

    def v2_playbook_on_play_start(self, play: Any) -> None:
        """Attach the cache once, before the first play runs a task."""
        if self._decided:
            return
        self._decided = True
        if os.environ.get("AUTOBUY_ANSIBALLZ_CACHE", "on").lower() in ("off", "0", "false", "no"):
            return
        if not speedups_wanted(play):
            self._display.vvv("ansiballz_cache: off (autobuy_controller_speedups is false)")
            return
        reason = untested("autobuy.guard.ansiballz_cache")
        if reason:
            self._display.warning(reason)
            return
        try:
            cache = attach(C.DEFAULT_LOCAL_TMP, Path(C.ANSIBLE_HOME) / "autobuy-ansiballz",
                           source_key(self._playbook_dir))
        except OSError as exc:
            self._display.warning(f"ansiballz_cache: payloads are rebuilt this run ({exc})")
            return
        self._display.vvv(f"ansiballz_cache: module payloads cached in {cache}")


def speedups_wanted(play: Any) -> bool:
    """``autobuy_controller_speedups`` as the play sees it for localhost (inventory,
    group_vars, extra vars); undefined means true."""
    manager = play.get_variable_manager()
    inventory = getattr(manager, "_inventory", None)  # pylint: disable=protected-access
    host = inventory.get_host("localhost") if inventory is not None else None
    value = manager.get_vars(play=play, host=host, include_hostvars=False).get(
        "autobuy_controller_speedups", True)
    return boolean(value, strict=False)
