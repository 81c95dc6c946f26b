"""The databases behind the local cloud's RDS: one MariaDB container per DB instance.

``autobuy/mariadb:latest`` (Debian's ``mariadb-server``, ``images/mariadb``, built by
``make images``) stands in for MySQL 8.4. Each DB instance gets a container
``localcloud-rds-<id>-<owner>`` on the twin network, where it answers on port 3306 under
the endpoint address ``DescribeDBInstances`` reports, and on a loopback port of the host.
The master user (all privileges, from any host) and the initial database are created by
an init file copied into the container before it starts (``docker cp`` from a tar stream
on stdin): the password is never on a command line, in the environment, in a host file
or in a log.

Like RDS, every server offers TLS: a certificate from the twin CA
(:mod:`localcloud.twin.ca`) for the endpoint name, ``localhost`` and 127.0.0.1, copied in
with a config file (``/etc/mysql/mariadb.conf.d/95-twin-tls.cnf``) before the start. The
config also carries ``require_secure_transport`` from the DB instance's parameter group;
:meth:`Databases.set_require_secure_transport` changes it on a running server (the
parameter is dynamic on RDS too). With it on, a plain TCP connection is refused (MariaDB
answers error 1045, access denied); the local cloud's own ``docker exec`` calls go
through the Unix socket, which the server counts as secure.
"""
from __future__ import annotations

import io
import os
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.twin import docker
from localcloud.twin.ca import CertificateAuthority

IMAGE = "autobuy/mariadb:latest"
PORT = 3306
READY_TIMEOUT = 180.0
TLS_DIR = "/etc/twin/tls"
TLS_CNF = "etc/mysql/mariadb.conf.d/95-twin-tls.cnf"


@dataclass
class Database:
    identifier: str
    endpoint: str
    container: str
    username: str
    db_name: str | None
    host_port: int = 0
    require_secure_transport: bool = False
    state: str = "starting"  # starting, available, failed
    error: str = ""
    thread: threading.Thread | None = field(default=None, repr=False)

    def report(self) -> dict:
        return {"container": self.container, "endpoint": self.endpoint, "port": PORT,
                "host_address": f"127.0.0.1:{self.host_port}" if self.host_port else "",
                "require_secure_transport": self.require_secure_transport,
                "state": self.state, **({"error": self.error} if self.error else {})}


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _sql_name(value: str) -> str:
    return "`" + value.replace("`", "``") + "`"


def init_sql(username: str, password: str, db_name: str | None) -> str:
    """SQL the server runs at each start: the master user and the initial database."""
    user = f"{_sql_string(username)}@'%'"
    lines = [
        f"CREATE USER IF NOT EXISTS {user} IDENTIFIED BY {_sql_string(password)};",
        f"ALTER USER {user} IDENTIFIED BY {_sql_string(password)};",
        f"GRANT ALL PRIVILEGES ON *.* TO {user} WITH GRANT OPTION;",
    ]
    if db_name:
        lines.insert(0, f"CREATE DATABASE IF NOT EXISTS {_sql_name(db_name)};")
    return "\n".join(lines) + "\n"


def tls_cnf(require_secure_transport: bool) -> str:
    """The server's TLS settings (files under :data:`TLS_DIR`)."""
    return (f"[mysqld]\nssl_cert = {TLS_DIR}/server.crt\nssl_key = {TLS_DIR}/server.key\n"
            f"ssl_ca = {TLS_DIR}/ca.crt\ntls_version = TLSv1.2,TLSv1.3\n"
            f"require_secure_transport = {'ON' if require_secure_transport else 'OFF'}\n")


def _tar_of(name: str, data: bytes) -> bytes:
    return _tar([(name, data, 0o600, 0, 0)])


def _tar(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A tar stream of (name, data, mode, uid, gid) files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data, mode, uid, gid in members:
            parent = name.rpartition("/")[0]
            if parent and parent not in tar.getnames():
                folder = tarfile.TarInfo(parent)
                folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
                tar.addfile(folder)
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            info.uid, info.gid = uid, gid
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def answers(port: int, username: str, password: str, db_name: str | None,
            ca_file: str | None = None) -> bool:
    """True when the server on the loopback port lets the master user in (over TLS,
    verifying the server's certificate for 127.0.0.1, when ``ca_file`` is given)."""
    import pymysql

    tls = {"ssl_ca": ca_file, "ssl_verify_cert": True, "ssl_verify_identity": True} if ca_file else {}
    try:
        pymysql.connect(host="127.0.0.1", port=port, user=username, password=password,
                        database=db_name or None, connect_timeout=3, **tls).close()
        return True
    except pymysql.MySQLError:
        return False


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by the owner only (dumps hold password hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


class Databases(docker.Service):
    """The DB containers of one local cloud server."""

    def __init__(self, owner: str, network: str, snapshot_dir: Path, image: str = IMAGE,
                 ca: CertificateAuthority | None = None) -> None:
        super().__init__("database", owner, network, image)
        self.ca = ca
        self.snapshot_dir = snapshot_dir
        self._all: dict[str, Database] = {}
        self.snapshots: dict[str, str] = {}  # final snapshot id -> dump file
        self._lock = threading.Lock()
        self.loading: set[str] = set()  # DB instances being filled from a dump (restores)
        self._mysql_ids: tuple[int, int] | None = None

    def container_name(self, identifier: str) -> str:
        return f"localcloud-rds-{identifier}-{self.owner}"

    def create(self, identifier: str, endpoint: str, username: str, password: str,
               db_name: str | None, on_failure: Callable[[str], None],
               require_secure_transport: bool = False) -> Database:
        """Start the DB instance's container in a background thread."""
        database = Database(identifier, endpoint, self.container_name(identifier), username,
                            db_name, require_secure_transport=require_secure_transport)
        with self._lock:
            self._all[identifier] = database
        database.thread = threading.Thread(
            target=self._start, args=(database, password, on_failure),
            name=f"localcloud-rds-{identifier}", daemon=True)
        database.thread.start()
        return database

    def _start(self, database: Database, password: str,
               on_failure: Callable[[str], None]) -> None:
        try:
            self.require_image("LOCALCLOUD_TWIN=on")
            docker.run(["create", "--name", database.container,
                        *self.labels(),
                        "--label", f"{docker.ROLE_LABEL}.db-instance={database.identifier}",
                        "--network", self.network, "--network-alias", database.endpoint,
                        "-p", f"127.0.0.1::{PORT}", self.image])
            sql = init_sql(database.username, password, database.db_name).encode()
            docker.run(["cp", "-", f"{database.container}:/etc/twin"],
                       stdin=_tar_of("init.sql", sql))
            copied = database.require_secure_transport
            ca_file = self._copy_tls(database)
            docker.run(["start", database.container])
            database.host_port = docker.host_port(database.container, PORT)
            deadline = time.monotonic() + READY_TIMEOUT
            while not answers(database.host_port, database.username, password,
                              database.db_name, ca_file):
                state = docker.run(["inspect", "-f", "{{.State.Status}}", database.container],
                                   check=False).stdout.decode().strip()
                if state != "running" or time.monotonic() > deadline:
                    logs = docker.run(["logs", "--tail", "15", database.container], check=False)
                    raise docker.DockerError(
                        f"the database did not answer (container {state or 'gone'}): "
                        f"{logs.stderr.decode(errors='replace')[-1000:]}")
                time.sleep(0.5)
            database.state = "available"
            if database.require_secure_transport != copied:  # changed while starting
                self.set_require_secure_transport(database.identifier,
                                                  database.require_secure_transport)
            print(f"localcloud: twin: DB instance {database.identifier} is MariaDB container "
                  f"{database.container}, host address 127.0.0.1:{database.host_port}",
                  flush=True)
        except (docker.DockerError, ValueError, OSError) as exc:  # never left "starting"
            database.state, database.error = "failed", str(exc)
            print(f"localcloud: twin: DB instance {database.identifier}: {exc}",
                  file=sys.stderr, flush=True)
            on_failure(str(exc))

    def _mysql_user(self) -> tuple[int, int]:
        """uid and gid of ``mysql`` in the image (the server reads its key as that user)."""
        if self._mysql_ids is None:
            out = docker.run(["run", "--rm", "--network", "none", "--entrypoint", "sh",
                              self.image, "-c", "id -u mysql; id -g mysql"]).stdout.split()
            self._mysql_ids = (int(out[0]), int(out[1]))
        return self._mysql_ids

    def _copy_tls(self, database: Database) -> str | None:
        """Copy the server's certificate, key (0600, owned by mysql) and TLS config into the
        created container; returns the CA file clients verify with (None without a CA)."""
        if self.ca is None:
            return None
        # "localhost" first: it becomes the subject's CN, which X.509 limits to 64
        # characters (an endpoint may be longer); clients check the names in the SAN.
        issued = self.ca.issue(["localhost", database.endpoint], ["127.0.0.1"])
        uid, gid = self._mysql_user()
        tls = TLS_DIR.lstrip("/")
        docker.run(["cp", "-a", "-", f"{database.container}:/"], stdin=_tar([
            (f"{tls}/server.crt", issued.cert_pem, 0o644, 0, 0),
            (f"{tls}/server.key", issued.key_pem, 0o600, uid, gid),
            (f"{tls}/ca.crt", self.ca.cert_pem, 0o644, 0, 0),
            (TLS_CNF, tls_cnf(database.require_secure_transport).encode(), 0o644, 0, 0)]))
        return str(self.ca.cert_path)

    def set_require_secure_transport(self, identifier: str, value: bool) -> bool:
        """Turn ``require_secure_transport`` on or off on the DB instance's running server
        (and in its config, for restarts). False when it has no available server."""
        database = self._all.get(identifier)
        if database is None:
            return False
        database.require_secure_transport = value
        if database.state != "available":
            return False  # still starting: _start applies the flag once the server answers
        setting = "ON" if value else "OFF"
        docker.run(["exec", database.container, "mariadb", "-e",
                    f"SET GLOBAL require_secure_transport = {setting}"])
        docker.run(["exec", "-i", database.container, "sh", "-c",
                    f"cat > /{TLS_CNF}"], stdin=tls_cnf(value).encode())
        return True

    def has(self, identifier: str) -> bool:
        return identifier in self._all

    def ready(self, identifier: str) -> bool:
        database = self._all.get(identifier)
        return database is not None and database.state == "available"

    def delete(self, identifier: str, final_snapshot: str | None = None) -> Path | None:
        """Remove the DB instance's container, after dumping it to
        ``<snapshot dir>/<final_snapshot>.sql`` (0600) when a final snapshot is asked for."""
        with self._lock:
            database = self._all.pop(identifier, None)
        if database is None:
            return None
        if database.thread is not None:
            database.thread.join(timeout=READY_TIMEOUT + 30)
        dump = None
        if final_snapshot and database.state == "available":
            what = ["--databases", database.db_name] if database.db_name else ["--all-databases"]
            result = docker.run(["exec", database.container, "mariadb-dump",
                                 "--single-transaction", "--routines", "--events", *what],
                                timeout=600)
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            dump = self.snapshot_dir / f"{final_snapshot}.sql"
            fd = os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, result.stdout)
            finally:
                os.close(fd)
            self.snapshots[final_snapshot] = str(dump)
        docker.run(["rm", "-f", "-v", database.container], check=False)
        return dump

    def report(self) -> dict:
        with self._lock:
            return {identifier: db.report() for identifier, db in sorted(self._all.items())}


    # Backups and restores (localcloud/ext/fidelity/rds_backups.py): a snapshot is a dump
    # of the instance's database; a restore is a new instance filled from one.

    def dump(self, identifier: str) -> bytes | None:
        """``mariadb-dump`` of the DB instance's database (None when it is not available).
        Without the dump date, so two dumps of unchanged data are equal."""
        database = self._all.get(identifier)
        if database is None or database.state != "available":
            return None
        what = ["--databases", database.db_name] if database.db_name else ["--all-databases"]
        dump = docker.run(["exec", database.container, "mariadb-dump", "--single-transaction",
                           "--routines", "--events", "--skip-dump-date", *what],
                          timeout=600).stdout
        # An RDS snapshot keeps the master user's password as it is then, also when it was
        # changed in SQL (a Secrets Manager rotation's SET PASSWORD): its hash, so the
        # restored server accepts the password the secret holds.
        create = docker.run(["exec", database.container, "mariadb", "-N", "-B", "-e",
                             f"SHOW CREATE USER {_sql_string(database.username)}@'%'"],
                            timeout=60).stdout.decode().strip()
        if not create.startswith("CREATE USER "):
            raise docker.DockerError(f"DB instance {identifier}: no master user to keep in the dump")
        return (dump + b"\n-- The master user's password at the time of the snapshot.\n"
                + ("ALTER USER " + create[len("CREATE USER "):] + ";\n").encode())

    def load(self, identifier: str, dump: Path | None,
             on_failure: Callable[[str], None]) -> None:
        """Fill the DB instance, once its server answers, from ``dump`` (None: it stays as
        created, e.g. from a snapshot of a database that was still empty). The instance is
        listed in :attr:`Databases.loading` until then."""
        database = self._all.get(identifier)
        if database is None:
            return
        with self._lock:
            self.loading.add(identifier)

        def fill() -> None:
            try:
                if database.thread is not None:
                    database.thread.join(timeout=READY_TIMEOUT + 30)
                if database.state == "available" and dump is not None:
                    docker.run(["exec", "-i", database.container, "mariadb"],
                               stdin=dump.read_bytes(), timeout=600)
                    print(f"localcloud: twin: DB instance {identifier} restored from {dump.name}",
                          flush=True)
            except (docker.DockerError, OSError) as exc:
                database.state, database.error = "failed", f"restore from {dump}: {exc}"
                print(f"localcloud: twin: DB instance {identifier}: {database.error}",
                      file=sys.stderr, flush=True)
                on_failure(database.error)
            finally:
                with self._lock:
                    self.loading.discard(identifier)

        threading.Thread(target=fill, name=f"localcloud-rds-restore-{identifier}",
                         daemon=True).start()

    def filled(self, identifier: str) -> bool:
        """True when the DB instance answers and no restore is still filling it."""
        return self.ready(identifier) and identifier not in self.loading
