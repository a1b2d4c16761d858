"""Certificates for the API and bus TLS tests (tests/e2e/test_tls_api_bus.py): a
CA and server certificates made with python3-cryptography, so that a test can
ask for what openssl's CLI makes awkward (an expired certificate, a second CA).
Owns only the files it writes into the directory it is given."""
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, cert, key=None):
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        key_path = path.with_suffix(".key")
        key_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        key_path.chmod(0o600)


class CA:
    def __init__(self, where: Path, name: str):
        self.dir = where
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder()
                     .subject_name(_name(name)).issuer_name(_name(name))
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                     .sign(self.key, hashes.SHA256()))
        self.path = where / f"{name.replace(' ', '-')}.pem"
        _write(self.path, self.cert)

    def issue(self, name: str, hosts=("127.0.0.1", "localhost"), days=30, expired=False):
        """(cert path, key path) for hosts (IP and DNS names both)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days)
        if expired:
            start, end = now - datetime.timedelta(days=10), now - datetime.timedelta(days=1)
        sans = []
        for h in hosts:
            sans.append(x509.DNSName(h))
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                pass
        cert = (x509.CertificateBuilder()
                .subject_name(_name(hosts[0])).issuer_name(self.cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName(sans), False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
                .sign(self.key, hashes.SHA256()))
        path = self.dir / f"{name}.pem"
        _write(path, cert, key)
        return str(path), str(path.with_suffix(".key"))
