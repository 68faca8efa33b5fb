#!/usr/bin/python3
"""Writes the two documents of the link-cache attack (issue 31, item 1) next to the genuine AWS
document they start from, for the C, Swift and Python tests:
  cache_attack_inserted_ca.cbor  the genuine document with a CA of our own (X) inserted at
                                 cabundle[1], its signature kept: refused (signature_invalid);
  cache_attack_forged_chain.cbor AWS root -> X -> a leaf of ours, signed by that leaf at the
                                 genuine document's timestamp: refused (chain_invalid), with or
                                 without a cache that saw the first document.
Before the fix a verifier that had seen the first accepted the second.
usage: forge_cache_attack.py VECTOR_DIR"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nitro_forge as forge  # noqa: E402
from cbor import Map, decode, encode  # noqa: E402

GENUINE = "evervault_ga_attestation_doc.cbor"


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(subject, issuer, key, issuer_key, not_before, not_after, ca):
    return (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(issuer_key, hashes.SHA384()))


def main(directory):
    with open(os.path.join(directory, GENUINE), "rb") as f:
        cose, _ = decode(f.read())
    protected, _, payload_bytes, signature = cose
    payload, _ = decode(payload_bytes)
    at = datetime.datetime.fromtimestamp(payload["timestamp"] / 1000, tz=datetime.timezone.utc).replace(tzinfo=None)

    x_key = ec.generate_private_key(ec.SECP384R1())
    x = certificate("forged-ca", "forged-ca", x_key, x_key, at - datetime.timedelta(days=30), at + datetime.timedelta(days=30), True)
    leaf_key = ec.generate_private_key(ec.SECP384R1())
    leaf = certificate("forged-enclave", "forged-ca", leaf_key, x_key, at - datetime.timedelta(hours=1),
                       at + datetime.timedelta(hours=2), False)

    inserted = dict(payload)
    inserted["cabundle"] = [payload["cabundle"][0], forge.der(x)] + payload["cabundle"][1:]
    first = encode([protected, {}, encode(Map(list(inserted.items()))), signature])

    forged = dict(payload)
    forged["certificate"] = forge.der(leaf)
    forged["cabundle"] = [payload["cabundle"][0], forge.der(x)]
    second = forge.sign(leaf_key, encode(Map(list(forged.items()))), protected=protected)

    for file, data in (("cache_attack_inserted_ca.cbor", first), ("cache_attack_forged_chain.cbor", second)):
        with open(os.path.join(directory, file), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
