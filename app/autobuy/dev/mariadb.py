"""A private MariaDB server on loopback, with its own datadir, socket and port.

    python -m autobuy.dev.mariadb start DIR PORT     (idempotent; leaves it running)
    python -m autobuy.dev.mariadb stop DIR

Used by ``make api`` (DIR under .cache/) and the test fixtures (DIR under /tmp).
The server's root account only accepts the local Unix socket (unix_socket auth);
the app gets its own user with a password, on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import getpass
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def _binary(name: str) -> str:
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if not found:
        raise RuntimeError(f"{name} not found: install MariaDB with scripts/system-deps.sh mariadb")
    return found


class MariaDB:
    def __init__(self, base: Path, port: int, server_args: tuple[str, ...] = ()) -> None:
        """``server_args``: more ``mariadbd`` options (e.g. a test's TLS certificate)."""
        self.base = Path(base).resolve()
        self.port = port
        self.server_args = tuple(server_args)
        self.datadir = self.base / "data"
        self.socket = self.base / "mysqld.sock"
        self.pidfile = self.base / "mysqld.pid"
        self.log = self.base / "mysqld.log"

    def _user_args(self) -> list[str]:
        return ["--user=" + getpass.getuser()] if os.geteuid() == 0 else []

    def running(self) -> bool:
        try:
            self.sql("SELECT 1", timeout=5)
            return True
        except (subprocess.SubprocessError, OSError):
            return False

    def sql(self, statement: str, timeout: float = 30) -> str:
        """Run SQL as the server's root over the Unix socket (no password exists)."""
        proc = subprocess.run([_binary("mariadb"), "--no-defaults", f"--socket={self.socket}", "-uroot",
                               "-N", "-B", "-e", statement], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, "mariadb", stderr=proc.stderr)
        return proc.stdout

    def install(self) -> None:
        if (self.datadir / "mysql").is_dir():
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o700)
        subprocess.run([_binary("mariadb-install-db"), "--no-defaults", f"--datadir={self.datadir}",
                        "--auth-root-authentication-method=socket", "--skip-test-db",
                        *self._user_args()], check=True, capture_output=True, timeout=120)

    def start(self, timeout: float = 60) -> None:
        if self.running():
            return
        self.install()
        with open(self.log, "ab") as out:
            subprocess.Popen(
                [_binary("mariadbd"), "--no-defaults", f"--datadir={self.datadir}",
                 f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
                 f"--pid-file={self.pidfile}", "--skip-name-resolve", "--innodb-buffer-pool-size=64M",
                 "--innodb-log-file-size=16M", "--performance-schema=OFF", "--skip-log-bin",
                 "--max-connections=200", *self.server_args, *self._user_args()],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"MariaDB did not start; see {self.log}")
            time.sleep(0.2)

    def ensure_database(self, name: str, user: str, password: str) -> None:
        quoted = password.replace("\\", "\\\\").replace("'", "\\'")
        statements = [f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"]
        for host in ("127.0.0.1", "localhost"):
            statements += [f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{quoted}'",
                           f"ALTER USER '{user}'@'{host}' IDENTIFIED BY '{quoted}'",
                           f"GRANT ALL ON `{name}`.* TO '{user}'@'{host}'"]
        self.sql("; ".join(statements))

    def stop(self, timeout: float = 30) -> None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)  # reap it when it is our own child (tests)
            except ChildProcessError:
                pass
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autobuy.dev.mariadb")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("port", type=int, nargs="?", default=3316)
    args = parser.parse_args(argv)
    db = MariaDB(args.dir, args.port)
    if args.action == "start":
        db.start()
        print(f"mariadb: running on 127.0.0.1:{args.port} (socket {db.socket})")
    else:
        db.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
