"""Nitro-shaped attestation documents signed by a throwaway certificate authority, for the NSM
simulator and the tests: the structure and sizes AWS uses (COSE_Sign1 with ES384, a P-384 chain
root -> intermediate -> leaf, 48-byte PCRs), made with OpenSSL through the `cryptography` package.
Tests use the lower-level pieces to build documents that break exactly one rule."""
import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from cbor import IndefiniteMap, Map, Raw, Tag, encode

PROTECTED_ES384 = bytes.fromhex("a1013822")  # {1: -35}


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Amazon"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "AWS"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, key, issuer_key, not_before, not_after, ca, path_length=None):
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer)).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=not ca or subject == issuer, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_agreement=False,
                                            key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False),
                              critical=True))
    return builder.sign(issuer_key, hashes.SHA384())


def der(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)


def pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


def when(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc).replace(tzinfo=None)


class Authority:
    """A root valid for ten years around `at_ms`, an intermediate for 30 days, and leaves made on
    demand (3 hours, as AWS's), all P-384."""

    def __init__(self, at_ms, name="simulated-nitro"):
        start = when(at_ms) - datetime.timedelta(days=365)
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.root = _certificate(f"{name}-root", f"{name}-root", self.root_key, self.root_key, start,
                                 start + datetime.timedelta(days=3650), ca=True)
        self.intermediate_key = ec.generate_private_key(ec.SECP384R1())
        self.intermediate = _certificate(f"{name}-intermediate", f"{name}-root", self.intermediate_key, self.root_key,
                                         when(at_ms) - datetime.timedelta(days=1), when(at_ms) + datetime.timedelta(days=29),
                                         ca=True, path_length=0)
        self.name = name
        self.leaf_key, self.leaf = self.make_leaf(at_ms)

    def make_leaf(self, at_ms, issuer=None, issuer_key=None, hours=3, start_ms=None):
        key = ec.generate_private_key(ec.SECP384R1())
        start = when(start_ms if start_ms is not None else at_ms - 60_000)
        certificate = _certificate(f"{self.name}-enclave", f"{self.name}-intermediate", key, issuer_key or self.intermediate_key,
                                   start, start + datetime.timedelta(hours=hours), ca=False)
        return key, certificate

    @property
    def cabundle(self):
        return [der(self.root), der(self.intermediate)]


def payload_pairs(authority, timestamp_ms, pcrs, public_key=None, user_data=None, nonce=None, module_id=None):
    """The payload's fields in AWS's order, as (key, value) pairs."""
    return [
        ("module_id", module_id or "i-0123456789abcdef0-enc0123456789abcdef"),
        ("digest", "SHA384"),
        ("timestamp", timestamp_ms),
        ("pcrs", {index: value for index, value in sorted(pcrs.items())}),
        ("certificate", der(authority.leaf)),
        ("cabundle", authority.cabundle),
        ("public_key", public_key),
        ("user_data", user_data),
        ("nonce", nonce),
    ]


def es384(key, data):
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA384())))
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")


def sign(key, payload, protected=PROTECTED_ES384, unprotected=None, tagged=False, signature=None, trailing=b""):
    """COSE_Sign1 over the payload's bytes; `signature` replaces the real one when given."""
    structure = encode(["Signature1", protected, b"", payload])
    cose = [protected, Raw(encode(unprotected if unprotected is not None else {})), payload,
            signature if signature is not None else es384(key, structure)]
    return encode(Tag(18, cose) if tagged else cose) + trailing


def document(authority, timestamp_ms, pcrs, public_key=None, user_data=None, nonce=None, indefinite=False, tagged=False):
    """A well-formed document, its payload map definite (as older NSMs write it) or indefinite
    (as current ones do)."""
    pairs = payload_pairs(authority, timestamp_ms, pcrs, public_key, user_data, nonce)
    payload = encode(IndefiniteMap(pairs) if indefinite else Map(pairs))
    return sign(authority.leaf_key, payload, tagged=tagged)


def pcr_set(seed=1, indexes=(0, 1, 2, 3, 4, 8)):
    """Deterministic 48-byte PCR values, distinct per seed."""
    return {i: bytes([(seed * 37 + i * 11 + k) % 256 for k in range(48)]) for i in indexes}


def random_pcrs(indexes=(0, 1, 2, 3, 4, 8)):
    return {i: os.urandom(48) for i in indexes}
