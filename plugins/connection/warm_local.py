# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection plugin: the ``local`` connection, with modules run by a warm Python."""
from __future__ import annotations

DOCUMENTATION = r"""
name: warm_local
short_description: execute on the controller, running Python modules in a warm interpreter
description:
  - The C(ansible.builtin.local) connection, except that Python module runs
    (C(/bin/sh -c 'PYTHON [SCRIPT ARGS] && sleep 0'), pipelined or not) are handed to a
    per-user fork server that has already imported boto3 and parsed botocore's service
    models. The server forks a child per run that executes the module exactly as
    C(PYTHON [SCRIPT ARGS]) would, with this process's environment, working directory
    and standard streams, so every run starts from the same pristine warmed state.
  - This removes most of the 0.3-0.5 s of CPU each AWS module run spends importing
    boto3 and parsing models; a converge of the whole stack runs about 60 modules.
  - Anything else (other commands, become, file transfers) goes through the plain
    C(local) connection, as does every run when the server cannot be reached; the
    first run of a session starts the server in the background and runs cold.
  - The server listens on a Unix socket in a private directory (mode 0700, owned by the
    user) under the temporary directory, exits after O(idle_timeout) idle seconds, and
    exits on its next request when the Python installation changed under it.
  - It relies on how ansible-core builds a module's command line. On an ansible-core
    series it was not tested with (see C(plugins/plugin_utils/core_compat.py)) it warns
    once and behaves exactly like C(local).
author: AutoBuy Guard contributors (@autobuy-guard)
options:
  speedups:
    description:
      - The inventory's switch for the controller speed-ups (this connection and the
        C(autobuy.guard.ansiballz_cache) callback). C(inventories/local) sets it true,
        C(inventories/aws) false; false behaves exactly like C(local).
    type: bool
    default: true
    vars:
      - name: autobuy_controller_speedups
  warm:
    description: Run Python modules in the warm fork server; false behaves exactly like C(local).
    type: bool
    default: true
    env:
      - name: AUTOBUY_WARM_PYTHON
    vars:
      - name: autobuy_warm_python
  idle_timeout:
    description: Seconds without a module run after which the fork server exits.
    type: int
    default: 600
    env:
      - name: AUTOBUY_WARM_PYTHON_IDLE
    vars:
      - name: autobuy_warm_python_idle
  socket_dir:
    description:
      - Private directory (created 0700) of the fork server's socket and log. Empty means
        C(autobuy-warm-UID) under the temporary directory.
    type: str
    default: ""
    env:
      - name: AUTOBUY_WARM_PYTHON_DIR
  become_success_timeout:
    type: int
    default: 10
    description: Seconds to wait for become to succeed (as C(local)).
    vars:
      - name: ansible_local_become_success_timeout
  become_strip_preamble:
    type: bool
    default: true
    description: Strip internal become output preceding command execution (as C(local)).
    vars:
      - name: ansible_local_become_strip_preamble
extends_documentation_fragment:
  - connection_pipelining
notes:
  - Linux and other POSIX systems with C(SCM_RIGHTS) (Python 3.9+ C(socket.send_fds)).
"""

import functools
import hashlib
import json
import os
import shlex
import socket
import stat
import struct
import subprocess
import tempfile
from pathlib import Path

from ansible.plugins.connection.local import Connection as LocalConnection
from ansible.utils.display import Display

from ansible_collections.autobuy.guard.plugins.plugin_utils.core_compat import untested

display = Display()

#: Why the fork server is not used with this ansible-core (None: it is tested with it).
UNTESTED_CORE = untested("autobuy.guard.warm_local")

SERVER = Path(__file__).resolve().parent.parent / "plugin_utils" / "warm_python.py"
STALE = -1000
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes; the server binds PATH.PID first


class WarmUnavailable(Exception):
    """The fork server cannot take this run (yet); run it cold instead."""


def has_expansions(script: str) -> bool:
    """Whether the shell would expand anything in ``script``: ``$``, backticks or a
    backslash outside single quotes, or a glob character or word-initial ``~`` unquoted.
    Such commands run through the shell, which knows what they mean."""
    quote = ""
    word_start = True
    for char in script:
        if quote == "'":
            quote = "" if char == "'" else quote
        elif char in "$`\\":
            return True
        elif quote == '"':
            quote = "" if char == '"' else quote
        elif char in "'\"":
            quote = char
        elif char in "*?[" or (char == "~" and word_start):
            return True
        word_start = not quote and char in " \t="
    return False


def parse_python_command(cmd: str) -> tuple[dict[str, str], list[str]] | None:
    """``/bin/sh -c '[NAME=VALUE ...] /abs/pythonX [ARGS] && sleep 0'`` -> (env, argv).

    Returns None for anything else (pipes, redirections, several commands, become
    wrappers), which then runs through the shell as usual."""
    try:
        outer = shlex.split(cmd)
    except ValueError:
        return None
    if len(outer) != 3 or outer[1] != "-c" or os.path.basename(outer[0]) not in ("sh", "bash"):
        return None
    if has_expansions(outer[2]):
        return None
    lexer = shlex.shlex(outer[2], posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    if tokens[-3:] != ["&&", "sleep", "0"]:
        return None
    tokens = tokens[:-3]
    if any(token and set(token) <= set("();<>|&") for token in tokens):
        return None
    env: dict[str, str] = {}
    while tokens and "=" in tokens[0] and tokens[0].split("=", 1)[0].isidentifier():
        name, value = tokens.pop(0).split("=", 1)
        env[name] = value
    if not tokens or not os.path.isabs(tokens[0]) or not os.path.basename(tokens[0]).startswith("python"):
        return None
    return env, tokens


def private_directory(configured: str = "") -> Path:
    """``configured`` or ``$TMPDIR/autobuy-warm-UID``, created 0700; refused if anyone
    else could use it."""
    uid = os.getuid()
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / f"autobuy-warm-{uid}"
    try:
        path.mkdir(mode=0o700, parents=bool(configured))
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077:
        raise WarmUnavailable(f"{path} is not a private directory of uid {uid}")
    return path


PRELOAD = (
    "ansible.module_utils",
    "ansible_collections.amazon.aws.plugins.module_utils",
    "ansible_collections.community.aws.plugins.module_utils",
)


@functools.lru_cache(maxsize=None)
def preload_packages() -> dict[str, str]:
    """Where this controller takes the module_utils the payloads carry from, so the
    server pre-imports a package only when its interpreter finds the same files."""
    import importlib

    found = {}
    for package in PRELOAD:
        try:
            paths = list(importlib.import_module(package).__path__)
        except ImportError:
            continue
        if len(paths) == 1:
            found[package] = os.path.realpath(paths[0])
    return found


@functools.lru_cache(maxsize=None)
def server_digest() -> bytes:
    """The fork server's source, hashed once per process (not once per module run)."""
    return hashlib.sha256(SERVER.read_bytes()).digest()


def socket_path(interpreter: str, packages: dict[str, str], directory: str = "") -> Path:
    """One server per interpreter, server version and preloaded package set."""
    digest = hashlib.sha256()
    digest.update(os.path.realpath(interpreter).encode())
    digest.update(server_digest())
    digest.update(json.dumps(packages, sort_keys=True).encode())
    path = private_directory(directory) / f"{digest.hexdigest()[:20]}.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise WarmUnavailable(f"{path} is too long for a Unix socket; set TMPDIR to a shorter directory")
    return path


def start_server(interpreter: str, path: Path, idle: int, packages: dict[str, str]) -> subprocess.Popen:
    """Start the fork server in the background (it warms up while this run goes cold)."""
    log = open(path.with_suffix(".log"), "ab")  # noqa: SIM115  # handed to the child
    with log:
        os.chmod(log.name, 0o600)
        return subprocess.Popen(  # noqa: S603  # fixed argv, no shell
            [interpreter, "-X", "utf8", str(SERVER), str(path), "--idle", str(idle),
             *(f"--preload={name}={directory}" for name, directory in packages.items())],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}, close_fds=True,
        )


def run_warm(path: Path, env: dict[str, str], argv: list[str], cwd: str,
             in_data: bytes | None) -> tuple[int, bytes, bytes]:
    """Hand one run to the server; raise WarmUnavailable when it has not started it."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with client:
        try:
            client.connect(str(path))
        except OSError as exc:
            raise WarmUnavailable(str(exc)) from None
        with tempfile.TemporaryFile() as stdin, tempfile.TemporaryFile() as stdout, \
                tempfile.TemporaryFile() as stderr:
            stdin.write(in_data or b"")
            stdin.flush()
            stdin.seek(0)
            header = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
            try:
                socket.send_fds(client, [struct.pack("!I", len(header)) + header],
                                [stdin.fileno(), stdout.fileno(), stderr.fileno()])
            except OSError as exc:
                raise WarmUnavailable(str(exc)) from None
            reply = b""
            while len(reply) < 4:
                chunk = client.recv(4 - len(reply))
                if not chunk:
                    break
                reply += chunk
            if len(reply) < 4:
                # The run may have started: running it again could repeat its effects.
                stdout.seek(0)
                stderr.seek(0)
                return 255, stdout.read(), stderr.read() + b"\nwarm_local: the module process ended without an exit status\n"
            (code,) = struct.unpack("!i", reply)
            if code == STALE:
                raise WarmUnavailable("the Python installation changed; the server restarts")
            stdout.seek(0)
            stderr.seek(0)
            return code, stdout.read(), stderr.read()


class Connection(LocalConnection):
    """``local``, with Python module runs served by a warm fork server."""

    transport = "warm_local"

    def _warm_enabled(self) -> bool:
        if UNTESTED_CORE:
            display.warning(UNTESTED_CORE)  # Display shows a repeated warning once
            return False
        return bool(self.get_option("speedups") and self.get_option("warm"))

    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        plan = parse_python_command(cmd) if isinstance(cmd, str) and self._warm_enabled() else None
        if plan is None or (self.become and sudoable):
            return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        env_assignments, argv = plan
        self._connect()
        try:
            packages = preload_packages()
            path = socket_path(argv[0], packages, self.get_option("socket_dir"))
            try:
                result = run_warm(path, {**os.environ, **env_assignments}, argv,
                                  self.cwd or os.getcwd(), in_data)
            except WarmUnavailable:
                start_server(argv[0], path, self.get_option("idle_timeout"), packages)
                raise
        except WarmUnavailable as exc:
            display.vvv(f"WARM PYTHON unavailable ({exc}); running cold", host=self._play_context.remote_addr)
            return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        display.vvv(f"WARM EXEC {cmd}", host=self._play_context.remote_addr)
        return result
