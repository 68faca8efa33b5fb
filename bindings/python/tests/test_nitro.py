"""AWS Nitro attestation documents through the C core: the genuine documents of the vectors, and
synthetic ones signed by a throwaway CA (tools/nitro/nitro_forge.py, OpenSSL through `cryptography`)
that each break one rule of docs/contract.md §3a. The known failures of other verifiers come first."""
import os
import random
import sys
import time

import pytest
from conftest import ROOT, VECTORS

import enclave_core as ec

sys.path.insert(0, str(ROOT / "tools" / "nitro"))
import nitro_forge as forge  # noqa: E402
from cbor import IndefiniteMap, Map, Raw, Tag, encode  # noqa: E402

NITRO = VECTORS / "nitro"
GENUINE = {  # file: (timestamp ms, debug)
    "evervault_ga_attestation_doc.cbor": (1695049410860, True),
    "evervault_beta_valid-attestation-doc.cbor": (1665651482136, False),
    "evervault_beta_debug-mode-attestation-doc.cbor": (1665582606081, True),
}
BETA_PCRS = {
    0: "f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b",
    1: "bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f",
    2: "d8f114da658de5481f8d9ec73907feb553560787522f705c92d7d96beed8e15e2aa611984e098c576832c292e8dc469a",
    8: "8790eb3cce6c83d07e84b126dc61ca923333d6f66615c4a79157de48c5ab2418bdc60746ea7b7afbff03a1c6210201cb",
}
BETA_POLICY = ",".join(f"{i}={v}" for i, v in BETA_PCRS.items())
NOW_MS = int(time.time() * 1000)


def genuine(name):
    return (NITRO / name).read_bytes()


def refused(reason, call):
    with pytest.raises(ec.NitroRefused) as raised:
        call()
    assert raised.value.reason == reason, str(raised.value)


# ---- Genuine documents -------------------------------------------------------------------------

@pytest.mark.parametrize("name", GENUINE)
def test_genuine_documents_verify_at_their_own_time_and_are_expired_today(name):
    at, debug = GENUINE[name]
    document = ec.verify_nitro_document(genuine(name), at_ms=at)  # the AWS root, built in
    assert document.digest == "SHA384" and document.timestamp_ms == at and len(document.cabundle) == 4
    assert document.cabundle[0] == ec.AWS_NITRO_ROOT_DER and sorted(document.pcrs) == list(range(16))
    assert all(len(v) == 48 for v in document.pcrs.values())
    assert (document.pcrs[0] == bytes(48)) == debug
    refused("cert_expired", lambda: ec.verify_nitro_document(genuine(name), at_ms=NOW_MS))
    # The timestamp is compared: the same document a day later is stale.
    refused("stale", lambda: ec.verify_nitro_document(genuine(name), at_ms=at + 301_000))


def test_genuine_fields_and_pcrs_are_as_the_vectors_state():
    beta = ec.verify_nitro_document(genuine("evervault_beta_valid-attestation-doc.cbor"), at_ms=1665651482136)
    assert {i: beta.pcrs[i].hex() for i in BETA_PCRS} == BETA_PCRS
    assert beta.public_key is None and beta.user_data is None and len(beta.nonce) == 256  # CBOR null is absent
    debug = ec.verify_nitro_document(genuine("evervault_beta_debug-mode-attestation-doc.cbor"), at_ms=1665582606081)
    assert debug.public_key == b"my super secret key" and debug.user_data == b"hello, world!" and debug.nonce is None
    # The time the upstream repository verifies it at, 12.5 minutes after its timestamp.
    ga = ec.verify_nitro_document(genuine("evervault_ga_attestation_doc.cbor"), at_ms=1695050165000, max_age_ms=900_000)
    assert ga.user_data[:2] == b"\x30\x59" and len(ga.nonce) == 256  # a P-256 SubjectPublicKeyInfo


def test_policy_on_genuine_documents():
    beta = ec.verify_nitro_document(genuine("evervault_beta_valid-attestation-doc.cbor"), at_ms=1665651482136)
    assert ec.pcrs_match(beta.pcrs, BETA_POLICY)
    assert ec.pcrs_match(beta.pcrs, f"0={'00' * 48} ; {BETA_POLICY}")  # one whole set is enough
    assert not ec.pcrs_match(beta.pcrs, "")  # an empty policy matches nothing
    assert not ec.pcrs_match(beta.pcrs, BETA_POLICY.replace("f4d4", "f4d5"))
    assert not ec.pcrs_match(beta.pcrs, BETA_POLICY + f",20={'00' * 48}")  # a PCR the document lacks
    for name in ("evervault_ga_attestation_doc.cbor", "evervault_beta_debug-mode-attestation-doc.cbor"):
        at, _ = GENUINE[name]
        debug = ec.verify_nitro_document(genuine(name), at_ms=at)
        zeros = f"0={'00' * 48},1={'00' * 48},2={'00' * 48}"
        assert not ec.pcrs_match(debug.pcrs, zeros)  # a debug enclave, genuinely AWS-signed, is refused
        assert ec.pcrs_match(debug.pcrs, zeros, allow_debug=True)
    with pytest.raises(ec.NitroRefused):
        ec.pcrs_match(beta.pcrs, "0=xyz")


def test_an_indefinite_payload_map_reads_the_same_but_is_not_what_was_signed():
    doc = genuine("evervault_beta_valid-attestation-doc.cbor")
    # [protected a1013822, unprotected a0, payload bstr(2-byte length), signature]: re-encode the
    # payload's map header (0xa9, nine pairs) as 0xbf ... 0xff and fix the payload's length.
    assert doc[:6] == bytes.fromhex("8444a1013822") and doc[6] == 0xA0 and doc[7] == 0x59
    length = int.from_bytes(doc[8:10], "big")
    payload = doc[10:10 + length]
    assert payload[0] == 0xA9
    indefinite_payload = b"\xbf" + payload[1:] + b"\xff"
    rebuilt = doc[:7] + b"\x59" + len(indefinite_payload).to_bytes(2, "big") + indefinite_payload + doc[10 + length:]
    before, after = ec.parse_nitro_document(doc), ec.parse_nitro_document(rebuilt)
    assert vars(before) == vars(after)
    refused("signature_invalid", lambda: ec.verify_nitro_document(rebuilt, at_ms=1665651482136))


@pytest.mark.parametrize("name", GENUINE)
def test_random_bit_flips_never_verify(name):
    at, _ = GENUINE[name]
    doc = bytearray(genuine(name))
    rng = random.Random(name)
    verifier = ec.NitroVerifier()
    verifier.verify(bytes(doc), at_ms=at)  # the cache holds this chain: a flip must fail all the same
    for _ in range(150):
        position, bit = rng.randrange(len(doc)), 1 << rng.randrange(8)
        doc[position] ^= bit
        with pytest.raises(ec.NitroRefused):
            ec.verify_nitro_document(bytes(doc), at_ms=at)
        with pytest.raises(ec.NitroRefused):
            verifier.verify(bytes(doc), at_ms=at)
        doc[position] ^= bit


# ---- Synthetic documents: each breaks one rule -------------------------------------------------

T = NOW_MS
PCRS = forge.pcr_set(1)


@pytest.fixture(scope="module")
def ca():
    return forge.Authority(T)


def root(ca):
    return forge.der(ca.root)


def pairs(ca, **override):
    fields = dict(forge.payload_pairs(ca, T, PCRS, public_key=b"k" * 32, user_data=b"enclave-runtime/v1"))
    fields.update(override)
    return [(k, v) for k, v in fields.items() if v is not ...]


def signed(ca, payload_pairs=None, indefinite=False, **sign_options):
    payload_pairs = pairs(ca) if payload_pairs is None else payload_pairs
    payload = encode(IndefiniteMap(payload_pairs) if indefinite else Map(payload_pairs))
    return forge.sign(ca.leaf_key, payload, **sign_options)


def verify(ca, doc, at=T):
    return ec.verify_nitro_document(doc, at_ms=at, root_der=root(ca))


@pytest.mark.parametrize("indefinite", [False, True], ids=["definite-map", "indefinite-map"])
@pytest.mark.parametrize("tagged", [False, True], ids=["untagged", "tag-18"])
def test_a_document_that_follows_every_rule_verifies(ca, indefinite, tagged):
    doc = forge.document(ca, T, PCRS, public_key=b"k" * 32, user_data=b"u", nonce=b"n" * 512, indefinite=indefinite, tagged=tagged)
    document = verify(ca, doc)
    assert document.pcrs == PCRS and document.public_key == b"k" * 32 and len(document.nonce) == 512
    assert document.cabundle == ca.cabundle and document.timestamp_ms == T
    refused("root_mismatch", lambda: ec.verify_nitro_document(doc, at_ms=T))  # not AWS's root


def test_known_failures_of_other_verifiers(ca):
    # Documents that omit PCRs are refused (evervault-go, CVE-2025-64186), as is an empty PCR map.
    refused("missing_field", lambda: verify(ca, signed(ca, pairs(ca, pcrs=...))))
    refused("bad_pcrs", lambda: verify(ca, signed(ca, pairs(ca, pcrs={}))))
    # An empty expected-PCR set accepts nothing.
    assert not ec.pcrs_match(PCRS, "") and not ec.pcrs_match(PCRS, " ; ")
    # The last certificate of the bundle is not the root: the pinned root must be cabundle[0].
    refused("root_mismatch", lambda: verify(ca, signed(ca, pairs(ca, cabundle=[forge.der(ca.intermediate), forge.der(ca.root)]))))
    # The timestamp is compared: a document older than the maximum age, or from the future, is refused.
    refused("stale", lambda: verify(ca, forge.document(ca, T - 301_000, PCRS)))
    refused("future", lambda: verify(ca, forge.document(ca, T + 31_000, PCRS)))
    # A debug document (PCR0 zero) fails the policy unless debug is allowed.
    debug = verify(ca, forge.document(ca, T, {0: bytes(48), 1: bytes(48)}))
    assert not ec.pcrs_match(debug.pcrs, f"0={'00' * 48}") and ec.pcrs_match(debug.pcrs, f"0={'00' * 48}", allow_debug=True)
    # Optional fields that arrive as CBOR null are absent, and required ones may not be null.
    absent = verify(ca, signed(ca, pairs(ca, public_key=None, user_data=None, nonce=None)))
    assert absent.public_key is None and absent.user_data is None and absent.nonce is None
    missing = verify(ca, signed(ca, pairs(ca, public_key=..., user_data=..., nonce=...)))
    assert missing.public_key is None
    refused("missing_field", lambda: verify(ca, signed(ca, pairs(ca, pcrs=None))))
    refused("missing_field", lambda: verify(ca, signed(ca, pairs(ca, certificate=None))))


def leaf_by_other_intermediate(ca):
    key = forge.ec.generate_private_key(forge.ec.SECP384R1())
    other = forge._certificate("simulated-nitro-intermediate", "simulated-nitro-root", key, ca.root_key,
                               forge.when(T) - forge.datetime.timedelta(days=1), forge.when(T) + forge.datetime.timedelta(days=29),
                               ca=True, path_length=0)
    leaf_key, leaf = ca.make_leaf(T, issuer_key=key)
    return other, leaf_key, leaf


STRUCTURE_CASES = {
    # name: (reason, document builder)
    "wrong alg (ES256)": ("bad_algorithm", lambda ca: signed(ca, protected=bytes.fromhex("a10126"))),
    "alg in a longer header": ("bad_algorithm", lambda ca: signed(ca, protected=bytes.fromhex("a201382204a0"))),
    "signature of 95 bytes": ("bad_signature_length", lambda ca: signed(ca, signature=bytes(95))),
    "signature of 97 bytes": ("bad_signature_length", lambda ca: signed(ca, signature=bytes(97))),
    "unprotected not empty": ("bad_unprotected", lambda ca: signed(ca, unprotected={4: b"kid"})),
    "duplicate payload key": ("duplicate_key", lambda ca: signed(ca, pairs(ca) + [("digest", "SHA384")])),
    "duplicate unknown key": ("duplicate_key", lambda ca: signed(ca, pairs(ca) + [("extra", 1), ("extra", 2)])),
    "duplicate PCR index": ("duplicate_key", lambda ca: signed(ca, pairs(ca, pcrs=Map([(0, PCRS[0]), (0, PCRS[0])])))),
    "missing pcrs": ("missing_field", lambda ca: signed(ca, pairs(ca, pcrs=...))),
    "missing cabundle": ("missing_field", lambda ca: signed(ca, pairs(ca, cabundle=...))),
    "missing timestamp": ("missing_field", lambda ca: signed(ca, pairs(ca, timestamp=...))),
    "null pcrs": ("missing_field", lambda ca: signed(ca, pairs(ca, pcrs=None))),
    "empty cabundle": ("empty_cabundle", lambda ca: signed(ca, pairs(ca, cabundle=[]))),
    "empty module_id": ("bad_field", lambda ca: signed(ca, pairs(ca, module_id=""))),
    "digest SHA256": ("bad_digest", lambda ca: signed(ca, pairs(ca, digest="SHA256"))),
    "timestamp as text": ("bad_field", lambda ca: signed(ca, pairs(ca, timestamp=str(T)))),
    "PCR index 32": ("bad_pcrs", lambda ca: signed(ca, pairs(ca, pcrs={**PCRS, 32: bytes(48)}))),
    "a 47-byte PCR": ("bad_pcrs", lambda ca: signed(ca, pairs(ca, pcrs={**PCRS, 5: bytes(47)}))),
    "33 PCRs": ("bad_pcrs", lambda ca: signed(ca, pairs(ca, pcrs={i: bytes(48) for i in range(33)}))),
    "user_data of 513 bytes": ("bad_field", lambda ca: signed(ca, pairs(ca, user_data=b"u" * 513))),
    "nonce of 513 bytes": ("bad_field", lambda ca: signed(ca, pairs(ca, nonce=b"n" * 513))),
    "public_key of 1025 bytes": ("bad_field", lambda ca: signed(ca, pairs(ca, public_key=b"k" * 1025))),
    "user_data as text": ("bad_field", lambda ca: signed(ca, pairs(ca, user_data="text"))),
    "trailing bytes": ("trailing_bytes", lambda ca: signed(ca, trailing=b"\x00")),
    "payload not a map": ("bad_payload", lambda ca: forge.sign(ca.leaf_key, encode([1, 2, 3]))),
    "bytes after the payload map": ("bad_payload", lambda ca: forge.sign(ca.leaf_key, encode(Map(pairs(ca))) + b"\xf6")),
    "indefinite map without its break": (
        "malformed_cbor", lambda ca: forge.sign(ca.leaf_key, encode(IndefiniteMap(pairs(ca), terminated=False)))),
    "indefinite-length byte string": (
        "malformed_cbor", lambda ca: signed(ca, pairs(ca, nonce=Raw(b"\x5f\x42ab\x41c\xff")))),
    "a float": ("malformed_cbor", lambda ca: signed(ca, pairs(ca, timestamp=Raw(b"\xfb" + bytes(8))))),
    "array of three": ("not_cose_sign1", lambda ca: encode([forge.PROTECTED_ES384, {}, encode(Map(pairs(ca)))])),
    "another tag": ("not_cose_sign1", lambda ca: encode(Tag(17, [forge.PROTECTED_ES384, {}, b"", bytes(96)]))),
    "root not first": ("root_mismatch", lambda ca: signed(ca, pairs(ca, cabundle=[forge.der(ca.intermediate), forge.der(ca.root)]))),
    "chain with a gap": ("chain_invalid", lambda ca: signed(ca, pairs(ca, cabundle=[forge.der(ca.root)]))),
    "leaf expired at the time": ("cert_expired", lambda ca: (lambda lk: forge.sign(lk[0], encode(Map(pairs(ca, certificate=forge.der(lk[1]))))))(
        ca.make_leaf(T, start_ms=T - 4 * 3600_000))),
    "leaf signed by the wrong intermediate": ("chain_invalid", lambda ca: (lambda o: forge.sign(o[1], encode(Map(pairs(ca, certificate=forge.der(o[2]))))))(
        leaf_by_other_intermediate(ca))),
    "signed by another key": ("signature_invalid", lambda ca: forge.sign(forge.ec.generate_private_key(forge.ec.SECP384R1()), encode(Map(pairs(ca))))),
    "leaf that is a CA": ("bad_leaf", lambda ca: signed(ca, pairs(ca, certificate=forge.der(ca.intermediate)))),
}


@pytest.mark.parametrize("case", STRUCTURE_CASES)
def test_each_broken_rule_is_refused_with_its_reason(ca, case):
    reason, build = STRUCTURE_CASES[case]
    refused(reason, lambda: verify(ca, build(ca)))


def test_the_cache_verifies_a_known_chain_with_the_cose_signature_alone(ca):
    verifier = ec.NitroVerifier(root(ca))
    first = forge.document(ca, T, PCRS)
    assert verifier.verify(first, at_ms=T).pcrs == PCRS
    again = forge.document(ca, T, forge.pcr_set(2))  # the same leaf, another document
    assert verifier.verify(again, at_ms=T).pcrs == forge.pcr_set(2)
    # A new leaf under the known intermediate; and a document the cache cannot vouch for.
    ca.leaf_key, ca.leaf = ca.make_leaf(T)
    assert verifier.verify(forge.document(ca, T, PCRS), at_ms=T).timestamp_ms == T
    refused("signature_invalid", lambda: verifier.verify(forge.sign(ca.intermediate_key, encode(Map(pairs(ca)))), at_ms=T))
    refused("cert_expired", lambda: verifier.verify(first, at_ms=T + 4 * 3600_000, max_age_ms=10**9))


def test_a_refused_document_teaches_the_cache_nothing():
    """The inserted-CA attack (tools/nitro/forge_cache_attack.py) against the built-in AWS root: the
    genuine document with the attacker's CA at cabundle[1] is refused, and the next one, AWS root ->
    that CA -> the attacker's leaf, is refused by the same verifier as by the one-shot call."""
    at = GENUINE["evervault_ga_attestation_doc.cbor"][0]
    inserted, forged = genuine("cache_attack_inserted_ca.cbor"), genuine("cache_attack_forged_chain.cbor")
    refused("chain_invalid", lambda: ec.verify_nitro_document(forged, at_ms=at))
    verifier = ec.NitroVerifier()
    refused("signature_invalid", lambda: verifier.verify(inserted, at_ms=at))
    refused("chain_invalid", lambda: verifier.verify(forged, at_ms=at))
    verifier.verify(genuine("evervault_ga_attestation_doc.cbor"), at_ms=at)
    refused("signature_invalid", lambda: verifier.verify(inserted, at_ms=at))
    refused("chain_invalid", lambda: verifier.verify(forged, at_ms=at))


# ---- The command line -------------------------------------------------------------------------

ENCLAVE_RPC = ROOT / "build" / "c" / "enclave-rpc"


def cli(*args):
    import subprocess
    done = subprocess.run([str(ENCLAVE_RPC), "verify-nitro", *map(str, args)], capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr.strip()


def test_verify_nitro_on_the_command_line(ca, tmp_path):
    import json
    beta = NITRO / "evervault_beta_valid-attestation-doc.cbor"
    rc, out, _ = cli(beta, "--at-ms", 1665651482136)
    fields = json.loads(out)
    assert rc == 0 and fields["timestamp_ms"] == 1665651482136 and fields["digest"] == "SHA384"
    assert {int(i): v for i, v in fields["pcrs"].items() if int(i) in BETA_PCRS} == BETA_PCRS
    assert fields["public_key"] is None and len(bytes.fromhex(fields["nonce"])) == 256
    assert cli(beta, "--at-ms", 1665651482136, "--pcrs", BETA_POLICY)[0] == 0
    assert cli(beta, "--at-ms", 1665651482136, "--pcrs", f"0={'00' * 48}") == (1, "", "the PCRs satisfy no set of the policy")
    assert cli(beta) == (1, "", "a certificate of the chain is not valid at the verification time")  # today
    assert cli(beta, "--at-ms", 1665651482136 + 301_000)[2] == "the document is older than the maximum age"
    debug = NITRO / "evervault_beta_debug-mode-attestation-doc.cbor"
    zeros = f"0={'00' * 48}"
    assert cli(debug, "--at-ms", 1665582606081, "--pcrs", zeros)[2] == "PCR0 is all zero: a debug enclave"
    assert cli(debug, "--at-ms", 1665582606081, "--pcrs", zeros, "--allow-debug")[0] == 0
    # A synthetic document against its own root, given as PEM.
    pem = tmp_path / "root.pem"
    pem.write_bytes(forge.pem(ca.root))
    synthetic = tmp_path / "doc.cbor"
    synthetic.write_bytes(forge.document(ca, T, PCRS, indefinite=True))
    assert cli(synthetic, "--at-ms", T, "--root", pem)[0] == 0
    assert cli(synthetic, "--at-ms", T)[2] == "cabundle[0] is not the pinned root certificate"
    assert cli(synthetic, "--bogus")[0] == 2
