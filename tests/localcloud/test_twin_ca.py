"""The twin's CA: one per state directory, private key kept private, certificates that
TLS clients verify (OpenSSL through Python's ``ssl``, in its strict mode, is the oracle)."""
from __future__ import annotations

import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest

from localcloud.twin.ca import CertificateAuthority


def test_the_ca_is_created_once_per_state_directory_with_a_private_key(tmp_path: Path) -> None:
    first = CertificateAuthority.open(tmp_path)
    again = CertificateAuthority.open(tmp_path)
    other = CertificateAuthority.open(tmp_path / "other")

    key = tmp_path / "twin" / "ca" / "ca.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert first.cert_path == tmp_path.resolve() / "twin" / "ca" / "ca.crt"
    assert again.cert_pem == first.cert_pem == first.cert_path.read_bytes()
    assert other.cert_pem != first.cert_pem
    assert "PRIVATE" not in repr(first) and key.read_text() not in repr(first)


def _handshake(ca: CertificateAuthority, directory: Path, names: list[str],
               server_name: str, ips: tuple[str, ...] = ()) -> None:
    """Serve one TLS handshake with an issued certificate; verify it as a client would."""
    cert, key = ca.issue(names, ips).write(directory, "server")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=str(ca.cert_path))
    client_ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client_ctx.wrap_socket(raw, server_hostname=server_name) as tls:
                tls.sendall(b"x")
    finally:
        thread.join(timeout=10)
        listener.close()


def test_an_issued_certificate_is_trusted_for_its_names_only(tmp_path: Path) -> None:
    ca = CertificateAuthority.open(tmp_path)
    host = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
    _handshake(ca, tmp_path, [host, "localhost"], host)
    _handshake(ca, tmp_path, [host], "127.0.0.1", ips=("127.0.0.1",))
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|match"):
        _handshake(ca, tmp_path, [host], "api.autobuyguard.store")


def test_a_certificate_of_another_ca_is_not_trusted(tmp_path: Path) -> None:
    ours, theirs = CertificateAuthority.open(tmp_path), CertificateAuthority.open(tmp_path / "x")
    cert, key = theirs.issue(["localhost"]).write(tmp_path, "foreign")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(ours.cert_path))
    server_in, client_in = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_out, client_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = server_ctx.wrap_bio(server_in, server_out, server_side=True)
    client = client_ctx.wrap_bio(client_in, client_out, server_hostname="localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        for _ in range(10):
            for side in (client, server):
                try:
                    side.do_handshake()
                except ssl.SSLWantReadError:
                    pass
            server_in.write(client_out.read())
            client_in.write(server_out.read())


@pytest.mark.parametrize("name", ["", "bad name", "-x.example", "a..b", "é.example"])
def test_a_bad_name_is_refused(tmp_path: Path, name: str) -> None:
    ca = CertificateAuthority.open(tmp_path)
    with pytest.raises(ValueError, match="DNS name|at least one"):
        ca.issue([name])
