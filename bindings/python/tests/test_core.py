"""The C core through ctypes, checked against Python's own hmac/hashlib and the published vectors."""
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys

import pytest
from conftest import VECTORS

import enclave_core as ec


def canonical(method, path, ts, nonce, body):
    return b"\0".join([method, path, ts, nonce]) + b"\0" + body


def test_loads_the_library_named_by_env():
    assert os.environ["ENCLAVE_CORE_LIB"].endswith("libenclave_core.so.1")
    assert ec.version() == "1.5.0"
    assert ec.sizes() == {"rpc_mac": 32, "rpc_sig_hex": 64, "ed25519_seed": 32, "ed25519_public_key": 32,
                          "ed25519_signature": 64, "seal_key": 32, "seal_overhead": 28,
                          "ping_binding_overhead": 73}


def test_protect_process_in_a_child():
    # A child, so this test process keeps its defaults.
    script = ("import enclave_core as ec; before = ec.process_is_protected(); ec.protect_process(); "
              "limits = [l for l in open('/proc/self/limits') if l.startswith('Max core file size')][0].split(); "
              "print(before, ec.process_is_protected(), limits[4], limits[5])")
    package_root = os.path.dirname(os.path.dirname(ec.__file__))
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONPATH": package_root})
    assert child.stdout.split() == ["False", "True", "0", "0"]


@pytest.mark.parametrize("seed", range(200))
def test_rpc_signature_matches_python_hmac(seed):
    rnd = random.Random(seed)
    key = rnd.randbytes(rnd.randint(16, 100))
    path = b"/v1/rpc/" + bytes(rnd.choice(b"abcdefghijklmnop/") for _ in range(rnd.randint(1, 40)))
    ts = str(rnd.randint(0, 2**40)).encode()
    nonce = bytes(rnd.randint(0x21, 0x7E) for _ in range(rnd.randint(1, 128)))
    body = rnd.randbytes(rnd.randint(0, 5000))
    want = hmac.new(key, canonical(b"POST", path, ts, nonce, body), hashlib.sha256).hexdigest()
    assert ec.sign_hex(key, b"POST", path, ts, nonce, body) == want
    assert ec.RpcSigner(key).sign_hex(b"POST", path, ts, nonce, body) == want
    v = ec.RpcVerifier(key)
    assert v.verify(b"POST", path, ts, nonce, body, want) == ec.CURRENT
    assert v.verify(b"POST", path, ts, nonce, body, want.upper()) == ec.CURRENT
    flipped = bytearray(body + b"x")
    flipped[rnd.randrange(len(flipped))] ^= 1 << rnd.randrange(8)
    assert v.verify(b"POST", path, ts, nonce, bytes(flipped), want) is None


def test_rotation_and_malformed_signatures():
    body = b'{"contract_version":"v1","request_id":"r"}'
    cur, prev = b"current-secret-0123456789", b"previous-secret-0123456789"
    v = ec.RpcVerifier(cur, prev)
    args = (b"POST", b"/v1/rpc/ping", b"1767225600", b"n-1", body)
    assert v.verify(*args, ec.sign_hex(cur, *args)) == ec.CURRENT
    assert v.verify(*args, ec.sign_hex(prev, *args)) == ec.PREVIOUS
    assert v.verify(*args, ec.sign_hex(b"other-secret-0123456789", *args)) is None
    good = ec.sign_hex(cur, *args)
    for bad in (good[:-1], good + "0", "", "g" + good[1:], " " + good[1:]):
        assert v.verify(*args, bad) is None


def test_wycheproof_hmac():
    data = json.loads((VECTORS / "hmac_sha256_test.json").read_text())
    for group in data["testGroups"]:
        for t in group["tests"]:
            mac = ec.hmac_sha256(bytes.fromhex(t["key"]), bytes.fromhex(t["msg"]))
            assert (mac[: group["tagSize"] // 8] == bytes.fromhex(t["tag"])) == (t["result"] == "valid")


def test_ed25519_vectors_and_payload():
    rfc = json.loads((VECTORS / "rfc4231_rfc8032_vectors.json").read_text())
    for t in rfc["ed25519_rfc8032"]:
        s = ec.Signer(bytes.fromhex(t["secret_key"]))
        assert s.public_key.hex() == t["public_key"]
        assert s.sign(bytes.fromhex(t["message"])).hex() == t["signature"]
    wp = json.loads((VECTORS / "ed25519_test.json").read_text())
    for group in wp["testGroups"]:
        pk = bytes.fromhex(group["publicKey"]["pk"])
        for t in group["tests"]:
            ok = ec.ed25519_verify(pk, bytes.fromhex(t["msg"]), bytes.fromhex(t["sig"]))
            assert ok == (t["result"] == "valid")
    p = ec.challenge_payload("nitro", "dev-local-enclave", "n", 1, 2, "decrypt", "r", 3)
    assert p == b"nitro|dev-local-enclave|n|1|2|decrypt|r|3"
    with pytest.raises(ec.EnclaveCoreError):
        ec.challenge_payload("nitro", "m", "a|b", 1, 2, "decrypt", "r", 3)


def test_blake2b_matches_hashlib():
    for n in (0, 1, 127, 128, 129, 1000):
        data = bytes(range(256)) * 4
        assert ec.blake2b(data[:n], key=b"k" * 32, out_len=32) == hashlib.blake2b(data[:n], key=b"k" * 32, digest_size=32).digest()


def test_seal_open_and_tamper():
    key, aad, plain = ec.random_bytes(32), b"u|c|kms|1", b"1//refresh-token"
    sealed = ec.seal(key, aad, plain)
    assert ec.open_sealed(key, aad, sealed) == plain
    for i in range(len(sealed)):
        t = bytearray(sealed)
        t[i] ^= 1
        with pytest.raises(ec.EnclaveCoreError):
            ec.open_sealed(key, aad, bytes(t))
    with pytest.raises(ec.EnclaveCoreError):
        ec.open_sealed(key, aad + b"x", sealed)


def test_header_parsers():
    assert ec.parse_timestamp("1767225600") == 1767225600
    assert ec.parse_timestamp("9223372036854775808") is None and ec.parse_timestamp("-1") is None
    assert ec.check_nonce("abc") and not ec.check_nonce("a b") and not ec.check_nonce("a" * 129)
    assert ec.ct_compare(b"abc", b"abc") and not ec.ct_compare(b"abc", b"abd")


def test_empty_keys_are_refused():
    # An empty key is a key anyone can use: a MAC made with it must never verify as PREVIOUS.
    with pytest.raises(ec.EnclaveCoreError):
        ec.RpcVerifier(b"real-secret-0123456789", b"")
    with pytest.raises(ec.EnclaveCoreError):
        ec.RpcVerifier(b"")
    with pytest.raises(ec.EnclaveCoreError):
        ec.RpcSigner(b"")
    with pytest.raises(ec.EnclaveCoreError):
        ec.sign_hex(b"", "POST", "/v1/rpc/ping", "1", "n", b"{}")
    assert ec.RpcVerifier(b"real-secret-0123456789", None).verify(
        "POST", "/v1/rpc/ping", "1", "n", b"{}", ec.sign_hex(b"x", "POST", "/v1/rpc/ping", "1", "n", b"{}")) is None


@pytest.mark.parametrize("seed", range(50))
def test_response_signature_matches_python_hmac(seed):
    rnd = random.Random(seed)
    key = rnd.randbytes(rnd.randint(16, 100))
    request_sig = rnd.randbytes(32).hex()
    status = rnd.choice([200, 400, 401, 413, 502, 503])
    body = rnd.randbytes(rnd.randint(0, 3000))
    want = hmac.new(key, b"v1-response\0" + request_sig.encode() + b"\0" + str(status).encode() + b"\0" + body,
                    hashlib.sha256).hexdigest()
    signer = ec.RpcSigner(key)
    assert signer.sign_response_hex(request_sig.upper(), status, body) == want
    assert ec.RpcVerifier(key).sign_response_hex(ec.CURRENT, request_sig, status, body) == want
    assert ec.RpcVerifier(b"other-key-0123456789", key).sign_response_hex(ec.PREVIOUS, request_sig, status, body) == want
    assert signer.verify_response(request_sig, status, body, want)
    assert signer.verify_response(request_sig, status, body, want.upper())
    assert not signer.verify_response(request_sig, status + 1, body, want)
    assert not signer.verify_response(request_sig, status, body + b"x", want)
    assert not signer.verify_response(request_sig, status, body, None)
    assert not signer.verify_response(request_sig, status, body, want[:-1])
    assert not ec.RpcSigner(key + b"x").verify_response(request_sig, status, body, want)


def test_ping_binding_payload_and_evidence_text():
    sig = "AB" * 32
    assert ec.ping_binding_payload("r-3", sig) == b"v1-ping\0r-3\0" + b"ab" * 32
    with pytest.raises(ec.EnclaveCoreError):
        ec.ping_binding_payload("r-3", "zz")
    assert ec.evidence_text_ok("host-startup") and ec.evidence_text_ok("é")
    for bad in ["a|b", "a\nb", "\x7f", "\u0085", "\u009f", "\u2028", "\u2029"]:
        assert not ec.evidence_text_ok(bad)
