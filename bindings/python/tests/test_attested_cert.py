"""The attested TLS certificate of docs/contract.md §2b, made by the C core and read back by
independent parsers: Python's `cryptography` and the `openssl x509` command."""
import subprocess
import tempfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import enclave_core as ec

OID = "2.25.267775713998348542974421145614813140568"
DOCUMENT = b'{"runtime":"nitro","measurement":"pcr0","issued_at":1796638500,"signature":null,"dev_shim":true}'


def make(document=DOCUMENT, not_before=1_796_638_500, not_after=1_796_638_500 + 86400, seed=bytes(range(32))):
    signer = ec.Signer(seed)
    return signer, ec.attested_certificate(signer, document, not_before, not_after)


def test_cryptography_reads_it_field_for_field():
    signer, der = make()
    cert = x509.load_der_x509_certificate(der)
    assert cert.version == x509.Version.v3
    assert cert.subject == cert.issuer and cert.subject.rfc4514_string() == "CN=enclave-runtime"
    assert cert.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == signer.public_key
    assert int(cert.not_valid_before.timestamp()) == 1_796_638_500
    assert int(cert.not_valid_after.timestamp()) == 1_796_638_500 + 86400
    assert cert.serial_number > 0
    (extension,) = cert.extensions
    assert extension.oid.dotted_string == OID and not extension.critical
    assert extension.value.value == DOCUMENT, "extnValue is exactly the document, no further wrapping"
    # Self-signed with the evidence key.
    Ed25519PublicKey.from_public_bytes(signer.public_key).verify(cert.signature, cert.tbs_certificate_bytes)


def test_openssl_parses_and_verifies_the_self_signature():
    _, der = make()
    with tempfile.NamedTemporaryFile(suffix=".der") as f:
        f.write(der)
        f.flush()
        text = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", f.name, "-noout", "-text"],
                              capture_output=True, check=True, text=True).stdout
        assert "ED25519" in text and "Version: 3" in text and OID in text
        pem = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", f.name], capture_output=True, check=True).stdout
    with tempfile.NamedTemporaryFile(suffix=".pem") as p:
        p.write(pem)
        p.flush()
        verified = subprocess.run(["openssl", "verify", "-check_ss_sig", "-no_check_time", "-CAfile", p.name, p.name],
                                  capture_output=True, text=True)
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_large_document_and_the_2050_switch_to_generalized_time():
    document = b'{"attestation_document":"' + b"A" * 9000 + b'"}'
    _, der = make(document, not_before=2_524_607_000, not_after=2_524_700_000)
    cert = x509.load_der_x509_certificate(der)
    assert cert.extensions[0].value.value == document
    assert cert.not_valid_after.year == 2050


def test_read_back_gives_the_document_and_the_key():
    signer, der = make()
    assert ec.attested_certificate_document(der) == (DOCUMENT, signer.public_key)


def test_read_back_refuses_what_is_not_exactly_one_attested_certificate():
    _, der = make()
    for bad in (der + b"\x00", der[:-1], b"", b"\x30\x00"):
        with pytest.raises(ec.EnclaveCoreError):
            ec.attested_certificate_document(bad)
    # A certificate without the extension (openssl's own, Ed25519 too).
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", f"{d}/k", "-out", f"{d}/c",
                        "-outform", "DER", "-subj", "/CN=x", "-days", "1"], capture_output=True, check=True)
        plain = open(f"{d}/c", "rb").read()
        with pytest.raises(ec.EnclaveCoreError):
            ec.attested_certificate_document(plain)
        # The extension critical, or twice: refused.
        for ext in ([f"{OID}=critical,DER:0401aa"], [f"{OID}=DER:0401aa", f"{OID}=DER:0401bb"]):
            args = ["openssl", "req", "-x509", "-key", f"{d}/k", "-out", f"{d}/e", "-outform", "DER", "-subj", "/CN=x",
                    "-days", "1"]
            for e in ext:
                args += ["-addext", e]
            made = subprocess.run(args, capture_output=True)
            if made.returncode != 0:
                continue  # openssl refuses a duplicate extension itself
            with pytest.raises(ec.EnclaveCoreError):
                ec.attested_certificate_document(open(f"{d}/e", "rb").read())


def test_arguments_refused():
    signer = ec.Signer(bytes(32))
    for document, nb, na in ((b"", 0, 1), (b"x", 10, 10), (b"x" * 65537, 0, 1)):
        with pytest.raises(ec.EnclaveCoreError):
            ec.attested_certificate(signer, document, nb, na)
