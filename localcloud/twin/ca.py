"""The twin's private certificate authority.

One CA per local cloud state directory (``LOCALCLOUD_STATE_DIR``, default ``.localcloud``):
created the first time it is needed, then reused by every server started on that
directory, so what trusts it once (instance images, ``/etc/docker/certs.d``, a browser)
keeps trusting it. Files, in ``<state dir>/twin/ca/``:

* ``ca.key`` — the CA's private key, mode 0600, never logged or printed;
* ``ca.crt`` — its certificate (PEM), the file to trust (``CertificateAuthority.cert_path``;
  ``.localcloud/twin.json`` will list it as ``ca_cert``).

:meth:`CertificateAuthority.issue` signs server certificates for DNS names and IP
addresses (the registry's ``<account>.dkr.ecr.<region>.amazonaws.com``, later the load
balancer's and ACM's names). ECDSA P-256 keys: quick to make, accepted by Go (the
registry), OpenSSL (HAProxy, curl) and Python's ``ssl`` in its strict mode.
"""
from __future__ import annotations

import datetime
import fcntl
import ipaddress
import os
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "AutoBuy Guard local twin CA"
CA_DAYS = 3650
#: The longest validity browsers accept for a server certificate.
SERVER_DAYS = 397
_BACKDATE = datetime.timedelta(minutes=5)  # tolerate clocks of containers a little behind


@dataclass(frozen=True)
class Issued:
    """A server certificate and its key, both PEM."""

    cert_pem: bytes
    key_pem: bytes

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``<stem>.crt`` (0644) and ``<stem>.key`` (0600); returns (cert, key) paths."""
        directory.mkdir(parents=True, exist_ok=True)
        cert, key = directory / f"{stem}.crt", directory / f"{stem}.key"
        _write(key, self.key_pem, 0o600)
        _write(cert, self.cert_pem, 0o644)
        return cert, key


class CertificateAuthority:
    """The CA of one state directory (see the module docstring)."""

    def __init__(self, directory: Path, key: ec.EllipticCurvePrivateKey,
                 cert: x509.Certificate) -> None:
        self.directory = directory
        self._key = key
        self.cert = cert

    def __repr__(self) -> str:  # never the key
        return f"CertificateAuthority({str(self.cert_path)!r})"

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def open(cls, state_dir: Path | str) -> CertificateAuthority:
        """The CA of ``state_dir``, created (once, under a lock) when it does not exist."""
        directory = Path(state_dir).resolve() / "twin" / "ca"
        directory.mkdir(parents=True, exist_ok=True)
        with _locked(directory / ".lock"):
            key_path, cert_path = directory / "ca.key", directory / "ca.crt"
            if key_path.exists() and cert_path.exists():
                key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
                if not isinstance(key, ec.EllipticCurvePrivateKey):
                    raise ValueError(f"{key_path} is not the twin CA's EC key")
                if key_path.stat().st_mode & 0o077:
                    os.chmod(key_path, 0o600)
                cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
                return cls(directory, key, cert)
            key = ec.generate_private_key(ec.SECP256R1())
            cert = _ca_certificate(key)
            _write(key_path, _key_pem(key), 0o600)
            _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
            return cls(directory, key, cert)

    def issue(self, dns_names: Iterable[str], ip_addresses: Iterable[str] = (),
              days: int = SERVER_DAYS) -> Issued:
        """A server certificate for the names (the first is the subject's CN) and IPs."""
        names = list(dict.fromkeys(n.strip().lower() for n in dns_names if n.strip()))
        ips = [ipaddress.ip_address(a) for a in ip_addresses]
        if not names and not ips:
            raise ValueError("a server certificate needs at least one DNS name or IP address")
        for name in names:
            _check_dns_name(name)
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (names or [str(ips[0])])[0])])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names] + [x509.IPAddress(ip) for ip in ips]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AutoBuy Guard local cloud"),
        x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _check_dns_name(name: str) -> None:
    labels = name[2:].split(".") if name.startswith("*.") else name.split(".")
    if len(name) > 253 or not all(
            label and len(label) <= 63 and label[0] != "-" and label[-1] != "-"
            and all(c.isalnum() or c == "-" for c in label) and label.isascii()
            for label in labels):
        raise ValueError(f"not a DNS name for a certificate: {name!r}")


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write through a temporary file created with ``mode`` (never readable by others
    even for a moment), then rename into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
