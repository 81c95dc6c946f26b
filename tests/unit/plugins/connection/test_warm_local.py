"""warm_local connection: command parsing, the private socket directory, and the fork
server end to end (streams, exit codes, environment, fresh state per run, daemonizing
modules, going stale when the installation changes)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

from ansible_collections.autobuy.guard.plugins.connection import warm_local

ROOT = Path(__file__).resolve().parents[4]
PY = sys.executable


@pytest.mark.parametrize(("cmd", "expected"), [
    (f"/bin/sh -c '{PY} && sleep 0'", ({}, [PY])),
    (f"/bin/sh -c 'LANG=C.UTF-8 LC_ALL=C.UTF-8 {PY} && sleep 0'",
     ({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}, [PY])),
    (f"/bin/sh -c 'ANSIBLE_ASYNC_DIR='\"'\"'~/.ansible_async'\"'\"' {PY} /t/async_wrapper.py j1 30 /t/m.py _ && sleep 0'",
     ({"ANSIBLE_ASYNC_DIR": "~/.ansible_async"}, [PY, "/t/async_wrapper.py", "j1", "30", "/t/m.py", "_"])),
    # single-quoted: taken literally, as the shell would
    (f"/bin/sh -c 'SECRET='\"'\"'$ecret `x` *'\"'\"' {PY} && sleep 0'", ({"SECRET": "$ecret `x` *"}, [PY])),
])
def test_python_runs_are_recognised(cmd: str, expected: tuple) -> None:
    assert warm_local.parse_python_command(cmd) == expected


@pytest.mark.parametrize("cmd", [
    "/bin/sh -c 'echo ~root && sleep 0'",
    f"/bin/sh -c '{PY} | tee /tmp/x && sleep 0'",
    f"/bin/sh -c '{PY}; rm -rf /tmp/x && sleep 0'",
    f"/bin/sh -c '{PY} > /tmp/out && sleep 0'",
    f"/bin/sh -c 'sudo -H -S -n -u bob /bin/sh -c '\"'\"'{PY}'\"'\"' && sleep 0'",
    "/bin/sh -c 'python3 && sleep 0'",  # not an absolute path
    f"/bin/sh -c '{PY}'",  # not the module runner's shape
    f"/bin/sh -c '{PY} && sleep 0' extra",
    "/bin/sh -c 'unbalanced",
    # what the shell would expand: left to the shell
    f"/bin/sh -c 'HOME_COPY=$HOME {PY} && sleep 0'",
    f"/bin/sh -c 'X=\"$(id)\" {PY} && sleep 0'",
    f"/bin/sh -c 'X=`id` {PY} && sleep 0'",
    f"/bin/sh -c '{PY} ~/module.py && sleep 0'",
    f"/bin/sh -c 'X=~/dir {PY} && sleep 0'",
    f"/bin/sh -c '{PY} /tmp/*.py && sleep 0'",
    f"/bin/sh -c '{PY} a\\ b && sleep 0'",
])
def test_everything_else_goes_to_the_shell(cmd: str) -> None:
    assert warm_local.parse_python_command(cmd) is None


def test_a_shared_socket_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm_local.tempfile, "gettempdir", lambda: str(tmp_path))
    shared = tmp_path / f"autobuy-warm-{os.getuid()}"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(warm_local.WarmUnavailable, match="not a private directory"):
        warm_local.private_directory()
    shared.chmod(0o700)
    assert warm_local.private_directory() == shared


def test_a_configured_directory_is_created_private(tmp_path: Path) -> None:
    configured = tmp_path / "a" / "b"
    assert warm_local.private_directory(str(configured)) == configured
    assert oct(configured.stat().st_mode & 0o777) == "0o700"
    configured.chmod(0o770)
    with pytest.raises(warm_local.WarmUnavailable, match="not a private directory"):
        warm_local.private_directory(str(configured))


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temporary directory short enough for Unix socket paths."""
    path = Path(tempfile.mkdtemp(prefix="wl", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """A fork server on a private socket, with an extra import-path directory."""
    monkeypatch.setattr(warm_local.tempfile, "gettempdir", lambda: str(short_tmp))
    extra = short_tmp / "site"
    extra.mkdir()
    monkeypatch.setenv("PYTHONPATH", str(extra))
    path = warm_local.socket_path(PY, {})
    proc = warm_local.start_server(PY, path, 60, {})
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None and time.monotonic() < deadline, path.with_suffix(".log").read_text()
        time.sleep(0.05)
    yield path, extra
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a loaded machine; the test's outcome stands
        proc.kill()
        proc.wait()


def run(path: Path, argv: list[str], stdin: bytes = b"", **env: str) -> tuple[int, bytes, bytes]:
    return warm_local.run_warm(path, {**os.environ, **env}, [PY, *argv], os.getcwd(), stdin)


def test_a_run_behaves_like_the_interpreter(server: tuple[Path, Path], tmp_path: Path) -> None:
    path, _ = server
    script = (b"import os, sys\n"
              b"print(os.environ['WARM_TEST'], os.getcwd(), sys.argv, __name__)\n"
              b"print('to stderr', file=sys.stderr)\n"
              b"raise SystemExit(3)\n")
    code, out, err = warm_local.run_warm(path, {**os.environ, "WARM_TEST": "yes"}, [PY], str(tmp_path), script)
    assert (code, err) == (3, b"to stderr\n")
    assert out.decode() == f"yes {tmp_path} [''] __main__\n"
    module = tmp_path / "module.py"
    module.write_text("import sys\nprint(sys.argv[1:], __file__)\n")
    assert run(path, [str(module), "a", "b"]) == (0, f"['a', 'b'] {module}\n".encode(), b"")


def test_a_run_that_cannot_start_fails_and_the_server_carries_on(server: tuple[Path, Path], tmp_path: Path) -> None:
    code, out, err = warm_local.run_warm(server[0], dict(os.environ), [PY], str(tmp_path / "gone"), b"print(1)\n")
    assert code == 1 and out == b""
    assert b"FileNotFoundError" in err
    assert run(server[0], [], b"print(2)\n") == (0, b"2\n", b"")


def test_uncaught_exceptions_exit_1_with_the_traceback(server: tuple[Path, Path]) -> None:
    code, out, err = run(server[0], [], b"raise KeyError('boom')\n")
    assert code == 1 and out == b""
    assert b"Traceback" in err and b"KeyError: 'boom'" in err


def test_every_run_starts_from_the_same_warm_state(server: tuple[Path, Path]) -> None:
    script = b"import json\nprint(hasattr(json, 'mark'))\njson.mark = 1\nimport sys\nprint('boto3' in sys.modules)\n"
    assert run(server[0], [], script)[1] == b"False\nTrue\n"
    assert run(server[0], [], script)[1] == b"False\nTrue\n"


def test_a_module_that_daemonizes_reports_its_own_status(server: tuple[Path, Path], tmp_path: Path) -> None:
    """Like async_wrapper: the forked child exits first; the run's status is the parent's."""
    marker = tmp_path / "daemon-ran"
    script = (f"import os, sys, time\n"
              f"if os.fork() == 0:\n"
              f"    open({str(marker)!r}, 'w').close()\n"
              f"    sys.exit(0)\n"
              f"time.sleep(0.5)\n"
              f"print('parent')\n"
              f"sys.exit(7)\n").encode()
    assert run(server[0], [], script) == (7, b"parent\n", b"")
    assert marker.exists()


def test_installing_packages_makes_the_server_stale(server: tuple[Path, Path]) -> None:
    path, extra = server
    assert run(path, [], b"print(1)\n")[0] == 0
    (extra / "new_package.py").write_text("")
    with pytest.raises(warm_local.WarmUnavailable, match="installation changed"):
        run(path, [], b"print(1)\n")
    deadline = time.monotonic() + 10
    while path.exists():  # the stale server leaves
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_no_server_means_unavailable(tmp_path: Path) -> None:
    with pytest.raises(warm_local.WarmUnavailable):
        warm_local.run_warm(tmp_path / "none.sock", dict(os.environ), [PY], str(tmp_path), b"")


def test_a_too_long_socket_path_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / ("d" * 90)
    deep.mkdir()
    monkeypatch.setattr(warm_local.tempfile, "gettempdir", lambda: str(deep))
    with pytest.raises(warm_local.WarmUnavailable, match="too long"):
        warm_local.socket_path(PY, {})


def test_idle_server_exits_and_removes_its_socket(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm_local.tempfile, "gettempdir", lambda: str(short_tmp))
    path = warm_local.socket_path(PY, {"x": "y"})
    proc = subprocess.Popen([PY, str(warm_local.SERVER), str(path), "--idle", "1"])
    try:
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    assert not path.exists()


@pytest.mark.parametrize(("variables", "untested", "warm"), [
    ({}, None, True),
    ({"autobuy_controller_speedups": True}, None, True),  # inventories/local
    ({"autobuy_controller_speedups": False}, None, False),  # inventories/aws
    ({"autobuy_controller_speedups": True, "autobuy_warm_python": False}, None, False),
    ({"autobuy_controller_speedups": True}, "not tested with ansible-core 9.9", False),
])
def test_warm_only_when_wanted_and_on_a_tested_core(monkeypatch: pytest.MonkeyPatch, variables: dict,
                                                    untested: str | None, warm: bool) -> None:
    from ansible.playbook.play_context import PlayContext
    from ansible.plugins.loader import connection_loader

    monkeypatch.delenv("AUTOBUY_WARM_PYTHON", raising=False)
    monkeypatch.setattr(warm_local, "UNTESTED_CORE", untested)
    warnings: list[str] = []
    monkeypatch.setattr(warm_local.display, "warning", warnings.append)
    connection = connection_loader.get("autobuy.guard.warm_local", PlayContext())
    connection.set_options(var_options=variables)
    assert connection._warm_enabled() is warm
    assert warnings == ([untested] if untested else [])
