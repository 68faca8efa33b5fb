"""The recipient key pair and the strict CMS opener of the C core, against ciphertexts made by an
independent encoder: the `openssl cms` command (tools/kms/cms_for_key.py), writing BER (-stream) as
KMS does, for the core's public key (as KMS encrypts to the key in the attestation document)."""
import subprocess
import sys

import pytest
from conftest import ROOT

from enclave_core.kms import CmsRefused, KmsRecipient

sys.path.insert(0, str(ROOT / "tools" / "kms"))
import cms_for_key  # noqa: E402  (the one maker of CiphertextForRecipient for tests)

OAEP_SHA256 = ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"]
BER = ["-outform", "DER", "-stream"]


def openssl(*args, data=b""):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def encrypt(plain: bytes, keys, *options, outform=BER):
    return cms_for_key.encrypt(plain, list(keys), [*outform, *options])


@pytest.fixture(scope="module")
def keys():
    recipient, other = KmsRecipient(), KmsRecipient()
    return recipient, recipient.public_key(), other.public_key()


def test_the_public_key_is_an_rsa_2048_subject_public_key_info(keys):
    recipient, _, _ = keys
    der = recipient.public_key()
    assert len(der) == 294 and der[:4] == bytes.fromhex("30820122")
    assert b"Public-Key: (2048 bit)" in openssl("pkey", "-pubin", "-inform", "DER", "-noout", "-text", data=der)
    assert KmsRecipient().public_key() != der, "a new pair each time"


def test_a_kms_shaped_ciphertext_opens(keys):
    recipient, ours, _ = keys
    data_key = bytes(range(32))
    ber = encrypt(data_key, [ours], "-aes-256-cbc", *OAEP_SHA256)
    assert b"\x80" in ber[:4], "indefinite lengths: BER, as KMS writes it"
    assert recipient.open(ber) == data_key
    der = encrypt(data_key, [ours], "-aes-256-cbc", *OAEP_SHA256, outform=["-outform", "DER"])
    assert recipient.open(der) == data_key
    assert recipient.open(encrypt(b"", [ours], "-aes-256-cbc", *OAEP_SHA256)) == b""


@pytest.mark.parametrize("name, options, recipients, reason", [
    ("OAEP with SHA-1 (its default)", ["-aes-256-cbc", "-keyopt", "rsa_padding_mode:oaep"], "ours", "key_encryption"),
    ("PKCS #1 v1.5", ["-aes-256-cbc"], "ours", "key_encryption"),
    ("MGF1 with SHA-1", ["-aes-256-cbc", "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256",
                         "-keyopt", "rsa_mgf1_md:sha1"], "ours", "key_encryption"),
    ("OAEP with a label", ["-aes-256-cbc", *OAEP_SHA256, "-keyopt", "rsa_oaep_label:0011"], "ours", "key_encryption"),
    ("AES-128-CBC content", ["-aes-128-cbc", *OAEP_SHA256], "ours", "content_encryption"),
    ("AES-192-CBC content", ["-aes-192-cbc", *OAEP_SHA256], "ours", "content_encryption"),
    ("two recipients", ["-aes-256-cbc", *OAEP_SHA256], "both", "recipients"),
    ("another key", ["-aes-256-cbc", *OAEP_SHA256], "theirs", "does_not_open"),
])
def test_every_other_ciphertext_is_refused_with_its_reason(keys, name, options, recipients, reason):
    recipient, ours, theirs = keys
    chosen = {"ours": [ours], "theirs": [theirs], "both": [ours, theirs]}[recipients]
    with pytest.raises(CmsRefused) as refused:
        recipient.open(encrypt(bytes(32), chosen, *options))
    assert refused.value.reason == reason, name


def test_other_structures_are_refused(keys, tmp_path):
    recipient, ours, _ = keys
    good = encrypt(bytes(32), [ours], "-aes-256-cbc", *OAEP_SHA256)
    password = openssl("cms", "-encrypt", "-binary", "-outform", "DER", "-aes-256-cbc", "-pwri_password", "pw",
                       data=bytes(32))
    key = str(tmp_path / "k.pem")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", str(tmp_path / "c.pem"),
            "-subj", "/CN=s", "-days", "1")
    signed = openssl("cms", "-sign", "-binary", "-outform", "DER", "-signer", str(tmp_path / "c.pem"), "-inkey", key,
                     data=bytes(32))
    cases = [(password, "recipients"), (signed, "not_enveloped"), (b"", "malformed"), (b"\x30\x00", "malformed"),
             (good[:-1], "malformed"), (good + b"\x00", "malformed"), (bytes(70000), "malformed")]
    for cms, reason in cases:
        with pytest.raises(CmsRefused) as refused:
            recipient.open(cms)
        assert refused.value.reason == reason, (reason, len(cms))
    with pytest.raises(CmsRefused) as small:
        recipient.open(good, cap=31)
    assert small.value.reason == "too_large"


def test_a_flipped_byte_anywhere_in_the_encrypted_content_never_opens_to_other_bytes(keys):
    recipient, ours, _ = keys
    plain = bytes(range(32))
    der = encrypt(plain, [ours], "-aes-256-cbc", *OAEP_SHA256, outform=["-outform", "DER"])
    opened_other = 0
    for i in range(len(der)):
        changed = bytearray(der)
        changed[i] ^= 0x01
        try:
            opened = recipient.open(bytes(changed))
        except CmsRefused:
            continue
        # CBC has no integrity: a flip in the IV or the content changes what opens. KMS's answer comes
        # over TLS verified inside the runtime, and a data key's use proves it (records open or not).
        opened_other += opened != plain
    assert opened_other <= 48, opened_other
