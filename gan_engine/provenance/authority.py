"""An instance's own C2PA signing authority: a root CA and an ES256 (P-256) signing certificate.

Why a CA and not one certificate: the C2PA library rejects a self-signed end-entity certificate,
and trust is decided by the anchor (the CA), so the signing certificate can be renewed without
changing what verifiers trust. The signing certificate has the digital-signature key usage and the
e-mail-protection extended key usage, as the C2PA trust-list rules ask. Plain ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Authority:
    """PEM material: what signing needs (chain + key) and what verifying trusts (ca_cert)."""

    ca_cert: bytes
    ca_key: bytes
    sign_cert: bytes
    sign_key: bytes

    @property
    def chain(self) -> bytes:
        """Signing certificate first, then the CA: the chain embedded in every manifest."""
        return self.sign_cert + self.ca_cert


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def create_authority(
    instance_name: str, *, years: int = 10, now: dt.datetime | None = None
) -> Authority:
    """A fresh root CA (``years`` valid) and a signing certificate it issued (2 years)."""
    now = now or dt.datetime.now(dt.UTC)
    organisation = instance_name[:64] or "Memorial"
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organisation} provenance root CA"[:64], organisation)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    sign_key = ec.generate_private_key(ec.SECP256R1())
    sign_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{organisation} provenance signer"[:64], organisation))
        .issuer_name(ca_name)
        .public_key(sign_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=min(365 * 2, 365 * years)))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(sign_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Authority(
        ca_cert=ca_cert.public_bytes(serialization.Encoding.PEM),
        ca_key=_pem_key(ca_key),
        sign_cert=sign_cert.public_bytes(serialization.Encoding.PEM),
        sign_key=_pem_key(sign_key),
    )
