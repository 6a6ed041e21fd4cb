"""Self-signed TLS certificates for the agent (and the simulators), and their SHA-256 fingerprints."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class CertificateKeyMissing(Exception):
    pass


@dataclass(frozen=True)
class CertificateFiles:
    cert_path: Path
    key_path: Path

    @property
    def fingerprint_sha256(self) -> str:
        return certificate_fingerprint(self.cert_path.read_bytes())


def certificate_fingerprint(pem: bytes) -> str:
    """SHA-256 of the certificate's DER bytes, lower-case hex without separators."""
    cert = x509.load_pem_x509_certificate(pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def ensure_self_signed_certificate(
    cert_path: Path,
    key_path: Path,
    *,
    common_name: str = "sage100-agent",
    hostnames: tuple[str, ...] = ("localhost",),
    ip_addresses: tuple[str, ...] = ("127.0.0.1",),
    valid_days: int = 825,
) -> tuple[CertificateFiles, bool]:
    """Create a self-signed certificate unless both files exist. Returns the files and whether it created them.

    An existing certificate is never replaced (connectors pin it): without its key this raises
    ``CertificateKeyMissing``.
    """
    files = CertificateFiles(cert_path, key_path)
    if cert_path.exists() and key_path.exists():
        return files, False
    if cert_path.exists():
        raise CertificateKeyMissing(
            f"the certificate {cert_path} exists but its key {key_path} is missing; restore the key from a "
            "backup, or delete the certificate to create a new one (every connector that pinned it must then be "
            "given the new fingerprint)"
        )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files, True
