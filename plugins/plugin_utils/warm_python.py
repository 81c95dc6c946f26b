# Copyright: AutoBuy Guard contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A warm Python for Ansible modules run on the controller: a fork server.

Every task against the AWS APIs runs an Ansible module in a fresh Python process on
the controller, and most of that process's CPU time goes into importing boto3 and
parsing botocore's service models (about 0.3-0.5 s per task). This server pays that
once: it imports boto3, parses the service models our playbooks use, and then, for
each module run that the ``warm_local`` connection plugin sends it, forks a child that
runs the module exactly as ``python [script] [args]`` would, with the caller's
arguments, environment, working directory and standard streams (passed over a Unix
socket as file descriptors). Each run gets a pristine copy of the warmed process, so
no state leaks from one module run to the next.

Pure standard library plus boto3; nothing from ``ansible`` is imported here, so the
modules' own ``ansible.module_utils`` come from their AnsiballZ payload as usual.

Protocol (one request per connection): the client sends ``!I`` length + JSON
``{"argv": [...], "env": {...}, "cwd": "..."}`` together with three descriptors
(stdin, stdout, stderr) in one ``SCM_RIGHTS`` message; the server answers ``!i`` with
the exit status, or ``STALE`` (``-1000``) before running anything when the Python
installation changed under it (then it exits, and the client runs the module cold).

    python warm_python.py SOCKET_PATH [--idle SECONDS]
"""
from __future__ import annotations

import argparse
import atexit
import fcntl
import json
import os
import signal
import socket
import struct
import sys
import traceback
import types
import zipimport

STALE = -1000
MAX_HEADER = 4 * 1024 * 1024
# Services whose models the playbooks load (network, security, data, edge, compute,
# monitoring tiers, their teardown and the deploy play).
SERVICES = (
    "acm", "autoscaling", "budgets", "cloudwatch", "dynamodb", "ec2", "ecr", "elbv2", "iam",
    "logs", "rds", "route53", "secretsmanager", "sns", "sts",
)


def installation_stamp() -> dict[str, int]:
    """Modification times of the import path's directories: a pip install or
    uninstall changes them, which makes the warmed imports stale."""
    stamp = {}
    for entry in sys.path:
        try:
            stamp[entry] = os.stat(entry).st_mtime_ns
        except OSError:
            continue
    return stamp


def share_botocore_models() -> None:
    """Parse each botocore data file once per server instead of once per session.

    botocore caches loaded files per ``Loader`` instance, and each module run creates
    a new session (so a new loader). The files are read-only package data, so one
    cache keyed by the loader's search path is equivalent and is inherited by every
    forked child already filled."""
    from botocore import loaders

    original = loaders.Loader.load_data_with_path
    shared: dict[tuple, object] = {}

    def load_data_with_path(self, name):  # type: ignore[no-untyped-def]
        key = (tuple(self.search_paths), name)
        if key not in shared:
            shared[key] = original(self, name)
        return shared[key]

    loaders.Loader.load_data_with_path = load_data_with_path  # type: ignore[method-assign]


class PayloadFallbackFinder:
    """Find submodules of pre-imported ``ansible``/``ansible_collections`` packages in
    the module's AnsiballZ payload.

    A package imported before the payload was put on ``sys.path`` keeps the
    ``__path__`` it was imported with, so what exists only in the payload (our own
    ``module_utils``, library modules) would not be found under it. Consulted last,
    after the normal path finders."""

    @classmethod
    def find_spec(cls, fullname: str, path=None, target=None):  # type: ignore[no-untyped-def]
        if not fullname.startswith(("ansible.", "ansible_collections.")):
            return None
        package = fullname.rpartition(".")[0].replace(".", "/")
        for entry in sys.path:
            if not entry.endswith(".zip"):
                continue
            try:
                spec = zipimport.zipimporter(f"{entry}/{package}/").find_spec(fullname, target)
            except zipimport.ZipImportError:
                continue
            if spec is not None:
                return spec
        return None


def preload(packages: dict[str, str]) -> None:
    """Import the modules under each package the controller resolves to the same
    directory as this interpreter does (so the payload would carry the same files).

    ``packages`` maps a dotted package (``ansible.module_utils``,
    ``ansible_collections.amazon.aws.plugins.module_utils``) to that directory."""
    import importlib
    import pkgutil

    for package, directory in packages.items():
        try:
            module = importlib.import_module(package)
        except ImportError:
            continue
        if [os.path.realpath(p) for p in module.__path__] != [os.path.realpath(directory)]:
            continue
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if "._internal._ansiballz._extensions" in info.name or ".compat." in info.name:
                continue
            try:
                importlib.import_module(info.name)
            except Exception:  # pylint: disable=broad-except  # optional dependencies
                continue
    sys.meta_path.append(PayloadFallbackFinder)


def warm() -> None:
    """Import boto3 and parse the service models the playbooks use."""
    try:
        import boto3  # noqa: F401  (the import is the point)
        import botocore.session
    except ImportError:  # an interpreter without boto3 still gains the preloads
        return

    share_botocore_models()
    session = botocore.session.Session()
    loader = session.get_component("data_loader")
    for name in ("endpoints", "partitions", "sdk-default-configuration", "_retry"):
        try:
            loader.load_data(name)
        except Exception:  # pylint: disable=broad-except  # optional data files
            pass
    for service in SERVICES:
        session.create_client(service, region_name="us-east-1", aws_access_key_id="warm",
                              aws_secret_access_key="warm")
        for kind in ("paginators-1", "waiters-2"):
            try:
                loader.load_service_model(service, kind)
            except Exception:  # pylint: disable=broad-except  # not every service has both
                pass


def receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: the JSON header and the three descriptors."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
    if len(fds) != 3 or len(data) < 4:
        for fd in fds:
            os.close(fd)
        raise ValueError("expected a header and three file descriptors")
    (size,) = struct.unpack("!I", data[:4])
    if size > MAX_HEADER:
        raise ValueError("request header too large")
    body = bytearray(data[4:])
    while len(body) < size:
        chunk = conn.recv(min(65536, size - len(body)))
        if not chunk:
            raise ValueError("connection closed inside the request")
        body += chunk
    return json.loads(body), fds


def run_child(request: dict, fds: list[int], conn: socket.socket) -> None:
    """In the forked child: become ``python ARGV...`` and report the exit status."""
    me = os.getpid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    args = request["argv"][1:]
    if args and args[0] != "-":
        script = args[0]
        with open(script, "rb") as handle:
            source = handle.read()
        sys.argv = list(args)
        sys.path.insert(0, os.path.dirname(os.path.realpath(script)))
    else:
        script = "<stdin>"
        source = sys.stdin.buffer.read()
        sys.argv = [""] + list(args[1:])
        sys.path.insert(0, "")
    main = types.ModuleType("__main__")
    if script != "<stdin>":
        main.__file__ = script
    main.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = main
    code = 0
    try:
        exec(compile(source, script, "exec"), main.__dict__)  # noqa: S102  # pylint: disable=exec-used
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # pylint: disable=broad-except  # like the interpreter's top level
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()  # pylint: disable=protected-access
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # pylint: disable=broad-except
                pass
        try:
            # Processes the module forked (async_wrapper daemonizes) end here too:
            # only the run's own process reports its status.
            if os.getpid() == me:
                conn.sendall(struct.pack("!i", code & 0xFF))
        finally:
            os._exit(code & 0xFF)


def reap(_signum: int = 0, _frame: object = None) -> None:
    """Collect every ended child."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(path: str, idle: float, packages: dict[str, str]) -> int:
    """Warm up, then fork a child per request until idle for ``idle`` seconds."""
    lock = open(os.open(path + ".lock", os.O_WRONLY | os.O_CREAT, 0o600), "w")  # noqa: SIM115  # held for life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another server for this socket is starting or running
    # The server's own directory must not shadow anything a module imports.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if entry not in ("", here)]
    warm()
    preload(packages)
    stamp = installation_stamp()
    # Reap children as they end (so their CPU time is accounted to this server).
    signal.signal(signal.SIGCHLD, reap)
    temporary = f"{path}.{os.getpid()}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(temporary)
    os.chmod(temporary, 0o600)
    listener.listen(64)
    os.replace(temporary, path)
    listener.settimeout(idle)
    try:
        while True:
            try:
                conn, _address = listener.accept()
            except socket.timeout:
                return 0
            conn.settimeout(None)
            with conn:
                try:
                    request, fds = receive(conn)
                except (OSError, ValueError) as exc:
                    print(f"warm_python: bad request: {exc}", file=sys.stderr, flush=True)
                    continue
                if installation_stamp() != stamp:
                    for fd in fds:
                        os.close(fd)
                    conn.sendall(struct.pack("!i", STALE))
                    return 0
                if os.fork() == 0:
                    # The child never returns into this loop, whatever happens.
                    try:
                        listener.close()
                        run_child(request, fds, conn)
                    except BaseException:  # pylint: disable=broad-except  # e.g. a vanished cwd
                        traceback.print_exc()
                        try:
                            conn.sendall(struct.pack("!i", 1))
                        finally:
                            os._exit(1)
                for fd in fds:
                    os.close(fd)
    finally:
        # The lock makes this the only server for ``path``, so the socket is ours.
        try:
            os.unlink(path)
        except OSError:
            pass
        listener.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("socket", help="Unix socket path to listen on (its directory must be private)")
    parser.add_argument("--idle", type=float, default=600.0, help="exit after this many idle seconds")
    parser.add_argument("--preload", action="append", default=[], metavar="PACKAGE=DIR",
                        help="import PACKAGE's modules if it resolves to DIR here too")
    args = parser.parse_args(argv)
    packages = dict(item.split("=", 1) for item in args.preload)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # clean up the socket
    return serve(args.socket, args.idle, packages)


if __name__ == "__main__":
    sys.exit(main())
