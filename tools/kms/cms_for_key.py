#!/usr/bin/env python3
"""A CiphertextForRecipient as KMS makes it (docs/contract.md §3b), made by an independent encoder:
the `openssl cms` command, for a recipient known only by its DER SubjectPublicKeyInfo (the key an
attestation document carries). `openssl cms -recip` wants a certificate, so one is made for that key,
signed by a throwaway CA. Used by the tests of every language, the KMSRelease benchmark and, for
issue 33, the KMS stand-in.

usage: cms_for_key.py SPKI_DER [SPKI_DER ...] [-- OPENSSL_CMS_OPTIONS ...] < PLAINTEXT > CMS
With no options: BER (-stream), AES-256-CBC, RSAES-OAEP with SHA-256 and MGF1-SHA-256, the shape
KMS writes. Options replace those, and come after the last -recip (where -keyopt applies)."""
import pathlib
import subprocess
import sys
import tempfile

KMS_SHAPE = ["-outform", "DER", "-stream", "-aes-256-cbc", "-keyopt", "rsa_padding_mode:oaep", "-keyopt",
             "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"]


def openssl(*args, data=b""):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def certificate(public_der: bytes, directory: pathlib.Path, name: str) -> str:
    pub, ca_key, ca, csr, cert = (str(directory / f"{name}.{suffix}") for suffix in ("pub", "ca.key", "ca", "csr", "pem"))
    pathlib.Path(pub).write_bytes(openssl("pkey", "-pubin", "-inform", "DER", data=public_der))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-subj", "/CN=ca", "-days", "1")
    openssl("req", "-new", "-key", ca_key, "-subj", "/CN=enclave-runtime", "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-force_pubkey", pub, "-days", "1",
            "-out", cert)
    return cert


def encrypt(plaintext: bytes, public_keys: list[bytes], options: list[str] | None = None) -> bytes:
    """The CMS for every key in public_keys (each a -recip), with `options` (default: KMS's shape)."""
    with tempfile.TemporaryDirectory() as directory:
        args = ["cms", "-encrypt", "-binary"]
        for i, key in enumerate(public_keys):
            args += ["-recip", certificate(key, pathlib.Path(directory), f"r{i}")]
        return openssl(*args, *(KMS_SHAPE if options is None else options), data=plaintext)


def main(argv):
    split = argv.index("--") if "--" in argv else len(argv)
    keys, options = argv[:split], (argv[split + 1:] if split < len(argv) else None)
    if not keys:
        sys.exit(__doc__)
    sys.stdout.buffer.write(encrypt(sys.stdin.buffer.read(), [pathlib.Path(k).read_bytes() for k in keys], options))


if __name__ == "__main__":
    main(sys.argv[1:])
