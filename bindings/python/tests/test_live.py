"""Live: the Python client, the C client (enclave-rpc) and the cross-language signature table against
a real enclave-runtime process (the one swift build made), started here on a free port."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts" / "lib"))
from enclave_stack import Stack, free_port  # noqa: E402

import enclave_core as ec

ENCLAVE_RPC = ROOT / "build" / "c" / "enclave-rpc"
SECRET = "live-python-secret-0123456789"
# The cross-language table: the same inputs must give this signature in every language
# (Swift: RPCVerifierTests.knownValue; C: enclave-rpc sign; Rust: bindings/rust tests).
TABLE = {"key": "local-dev-enclave-rpc-secret", "path": "/v1/rpc/ping", "ts": "1767225600",
         "nonce": "nonce-0123456789abcdef0123456789ab", "body": '{"contract_version":"v1","request_id":"r-3"}',
         "signature": "1ce3361b9f42bbd4ec0cf8f329e9fa5f0e6f544bd93e92be0ade8adf9cfb0a03"}


@pytest.fixture(scope="module")
def runtime():
    """A runtime without OAuth client settings: token RPCs answer provider_not_configured."""
    stack = Stack(with_provider=False, secret=SECRET).start()
    yield stack.base
    stack.stop()


def test_cross_language_table_python_and_c():
    t = TABLE
    assert ec.sign_hex(t["key"], "POST", t["path"], t["ts"], t["nonce"], t["body"]) == t["signature"]
    out = subprocess.run([str(ENCLAVE_RPC), "sign", t["path"], t["ts"], t["nonce"], t["body"]], capture_output=True,
                         text=True, env={**os.environ, "ENCLAVE_RPC_SHARED_SECRET": t["key"]}, check=True)
    assert out.stdout.strip() == t["signature"]


def test_python_client_is_accepted(runtime):
    client = ec.EnclaveClient(runtime, SECRET)
    assert client.ping() == {"runtime": "nitro", "measurement": "dev-local-enclave"}
    key = __import__("base64").b64decode(client.document()["public_key"])
    assert client.ping(binding_key=key) == {"runtime": "nitro", "measurement": "dev-local-enclave"}
    with pytest.raises(ec.EnclaveError) as error:  # the binding is checked against the key given
        client.ping(binding_key=bytes(32))
    assert error.value.code == "answer_not_authenticated"
    with pytest.raises(ec.EnclaveError) as error:  # past authentication: the provider is not configured (signed)
        client.exchange("6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11", "0b9e8a52-3c2d-4e7f-8a1b-2c3d4e5f6a7b")
    assert error.value.code == "provider_not_configured" and error.value.status == 503
    # A request signed with another secret is refused before step 5: the 401 cannot be signed, so
    # it is not the enclave's word either.
    with pytest.raises(ec.EnclaveError) as error:
        ec.EnclaveClient(runtime, "another-secret-0123456789").ping()
    assert error.value.code == "answer_not_authenticated" and error.value.status == 401
    assert "invalid_request_signature" in error.value.message


def _post(base, path, body, headers):
    request = urllib.request.Request(base + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("part", ["path", "ts", "nonce", "body", "signature"])
def test_one_byte_change_in_any_signed_part_is_rejected(runtime, part):
    client = ec.EnclaveClient(runtime, SECRET)
    path, body = "/v1/rpc/ping", json.dumps({"contract_version": "v1", "request_id": "r-1"}).encode()
    signed_path = "/v1/rpc/pinG" if part == "path" else path
    headers = client.signed_headers(signed_path, body)
    if part == "ts":
        headers["x-alfred-rpc-ts"] = str(int(headers["x-alfred-rpc-ts"]) + 1)
    if part == "nonce":
        headers["x-alfred-rpc-nonce"] = "X" + headers["x-alfred-rpc-nonce"][1:]
    if part == "body":
        body = body.replace(b"r-1", b"r-2")
    if part == "signature":
        sig = headers["x-alfred-rpc-signature"]
        headers["x-alfred-rpc-signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    status, answer = _post(runtime, path, body, headers)
    assert status == 401 and answer["error"]["code"] == "invalid_request_signature"


def test_challenge_verification_rejects_tampered_evidence(runtime):
    client = ec.EnclaveClient(runtime, SECRET)
    public_key = __import__("base64").b64decode(client.document()["public_key"])
    now = int(time.time())
    challenge = {"challenge_nonce": "py-nonce-1", "issued_at": now, "expires_at": now + 60,
                 "operation_purpose": "decrypt", "request_id": "py-req-1"}
    status, evidence = _post(runtime, "/v1/attestation/challenge", json.dumps(challenge).encode(),
                             {"content-type": "application/json"})
    policy = {"expected_runtime": "nitro", "allowed_measurements": ["dev-local-enclave"]}
    assert status == 200 and ec.verify_evidence(evidence, challenge, public_key, **policy)
    # Runtime and measurement are checked against the policy, as the Swift verifier does.
    assert not ec.verify_evidence(evidence, challenge, public_key, expected_runtime="sev", allowed_measurements=["dev-local-enclave"])
    assert not ec.verify_evidence(evidence, challenge, public_key, expected_runtime="nitro", allowed_measurements=["prod-pcr0"])
    assert not ec.verify_evidence(evidence, challenge, public_key, expected_runtime="nitro", allowed_measurements=[])
    tampered = [("runtime", "sev"), ("measurement", "other"), ("challenge_nonce", "py-nonce-2"), ("issued_at", now - 1),
                ("expires_at", now + 61), ("operation_purpose", "encrypt"), ("request_id", "py-req-2"),
                ("evidence_issued_at", evidence["evidence_issued_at"] + 1), ("evidence_issued_at", now - 1000)]
    for field, value in tampered:
        assert not ec.verify_evidence(dict(evidence, **{field: value}), challenge, public_key, **policy), field
    sig = bytearray(__import__("base64").b64decode(evidence["signature"]))
    sig[0] ^= 1
    assert not ec.verify_evidence(dict(evidence, signature=__import__("base64").b64encode(bytes(sig)).decode()), challenge,
                                  public_key, **policy)
    assert not ec.verify_evidence(evidence, challenge, bytes(32), **policy)
    assert client.verified_challenge(public_key)["runtime"] == "nitro"
    # Without a pinned key the document's key is trusted only on explicit dev opt-in, for a dev-shim document.
    with pytest.raises(ec.EnclaveError) as error:
        client.verified_challenge()
    assert error.value.code == "evidence_invalid"
    assert client.verified_challenge(allow_insecure_dev=True)["runtime"] == "nitro"
    with pytest.raises(ec.EnclaveError):
        client.verified_challenge(public_key, allowed_measurements=["prod-pcr0"])


def test_c_client_against_the_runtime(runtime):
    env = {**os.environ, "ENCLAVE_RUNTIME_BASE_URL": runtime, "ENCLAVE_RPC_SHARED_SECRET": SECRET}
    env.pop("TEE_ATTESTATION_PUBLIC_KEY", None)
    key = ec.EnclaveClient(runtime, SECRET).document()["public_key"]
    ping = subprocess.run([str(ENCLAVE_RPC), "--public-key", key, "ping"], capture_output=True, text=True, env=env)
    assert ping.returncode == 0 and json.loads(ping.stdout)["attested_identity"]["runtime"] == "nitro", ping.stderr
    assert "binding" in json.loads(ping.stdout) and ping.stderr == ""
    unpinned = subprocess.run([str(ENCLAVE_RPC), "ping"], capture_output=True, text=True, env=env)
    assert unpinned.returncode == 0 and "no pinned key" in unpinned.stderr
    challenge = subprocess.run([str(ENCLAVE_RPC), "challenge"], capture_output=True, text=True,
                               env={**env, "TEE_ATTESTATION_PUBLIC_KEY": key})
    assert challenge.returncode == 0 and challenge.stdout.startswith("verified runtime=nitro")
    other = __import__("base64").b64encode(bytes(32)).decode()
    mismatch = subprocess.run([str(ENCLAVE_RPC), "--public-key", other, "challenge"], capture_output=True, text=True, env=env)
    assert mismatch.returncode == 1 and mismatch.stderr.strip() == "key_mismatch"
    # The runtime cannot sign its refusal of a wrongly signed request: not authenticated.
    wrong = subprocess.run([str(ENCLAVE_RPC), "--public-key", key, "ping"], capture_output=True, text=True,
                           env={**env, "ENCLAVE_RPC_SHARED_SECRET": "wrong-secret-0123456789"})
    assert wrong.returncode == 1 and wrong.stderr.strip() == "answer_not_authenticated: invalid_request_signature"
    exchange = subprocess.run([str(ENCLAVE_RPC), "exchange", "6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11",
                               "0b9e8a52-3c2d-4e7f-8a1b-2c3d4e5f6a7b"], capture_output=True, text=True, env=env)
    assert exchange.returncode == 1 and exchange.stderr.strip() == "provider_not_configured"
    down = subprocess.run([str(ENCLAVE_RPC), "--public-key", key, "ping"], capture_output=True, text=True,
                          env={**env, "ENCLAVE_RUNTIME_BASE_URL": f"http://127.0.0.1:{free_port()}"})
    assert down.returncode == 1 and down.stderr.strip() == "unreachable"


RUST_PING = ROOT / "build" / "rust" / "debug" / "examples" / "ping"


def test_rust_client_is_accepted(runtime):
    if not RUST_PING.exists():
        pytest.fail(f"{RUST_PING} is missing: scripts/test.sh builds it with cargo")
    address = runtime.removeprefix("http://")
    key = ec.EnclaveClient(runtime, SECRET).document()["public_key"]
    env = {**os.environ, "ENCLAVE_RPC_SHARED_SECRET": SECRET, "TEE_ATTESTATION_PUBLIC_KEY": key}
    ok = subprocess.run([str(RUST_PING), address], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["attested_identity"]["runtime"] == "nitro", ok.stderr
    other = __import__("base64").b64encode(bytes(32)).decode()
    unbound = subprocess.run([str(RUST_PING), address], capture_output=True, text=True,
                             env={**env, "TEE_ATTESTATION_PUBLIC_KEY": other})
    assert unbound.returncode == 1 and "binding" in unbound.stderr
    wrong = subprocess.run([str(RUST_PING), address], capture_output=True, text=True,
                           env={**env, "ENCLAVE_RPC_SHARED_SECRET": "wrong-secret-0123456789"})
    assert wrong.returncode == 1 and "answer_not_authenticated (status 401)" in wrong.stderr


def _stand_in(status, answer, sign_with=None, location=None):
    """A loopback server answering every request with `status` and `answer`, its RPC answers signed
    with `sign_with` (a secret) when given; returns the server."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self._answer()

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self._answer()

        def _answer(self):
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            if location:
                self.send_header("location", location)
            request_sig = self.headers.get("x-alfred-rpc-signature")
            if sign_with and request_sig:
                signature = ec.RpcSigner(sign_with).sign_response_hex(request_sig, status, answer)
                self.send_header("x-alfred-rpc-response-signature", signature)
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize("status, answer", [(200, b"not json"), (200, b"[1, 2]"), (200, b"null"),
                                            (500, b"not json"), (500, b"[1, 2]"), (401, b'{"error": "x"}')])
def test_an_answer_of_the_wrong_shape_is_an_enclave_error(status, answer):
    """Every failure of the client is an EnclaveError, including an authentic answer of the wrong shape."""
    server = _stand_in(status, answer, sign_with=SECRET)
    try:
        client = ec.EnclaveClient(f"http://127.0.0.1:{server.server_port}", SECRET, timeout=5)
        for call in (client.ping, client.document):
            with pytest.raises(ec.EnclaveError) as raised:
                call()
            assert raised.value.code == "invalid_response" and raised.value.status == status
    finally:
        server.shutdown()


@pytest.mark.parametrize("status, answer", [
    (200, b'{"contract_version":"v1","request_id":"x","attested_identity":{"runtime":"nitro","measurement":"m"}}'),
    (401, b'{"contract_version":"v1","request_id":null,"error":{"code":"invalid_request_signature","message":"m","retryable":false}}'),
    (400, b'{"contract_version":"v1","request_id":null,"error":{"code":"connector_token_unavailable","message":"m","retryable":false}}'),
])
@pytest.mark.parametrize("signer", [None, "another-secret-0123456789"])
def test_an_answer_without_a_valid_response_signature_is_not_the_enclaves(status, answer, signer):
    """An impostor's answer, unsigned or signed with another secret, is never taken as the enclave's."""
    server = _stand_in(status, answer, sign_with=signer)
    try:
        client = ec.EnclaveClient(f"http://127.0.0.1:{server.server_port}", SECRET, timeout=5)
        for call in (client.ping, lambda: client.exchange("u", "c"), lambda: client.revoke("u", "c")):
            with pytest.raises(ec.EnclaveError) as raised:
                call()
            assert raised.value.code == "answer_not_authenticated" and raised.value.status == status
    finally:
        server.shutdown()


def test_a_redirect_is_not_followed():
    """A 307 would resend the signed request, body and all, to another origin: it is an answer."""
    target = _stand_in(200, b"{}", sign_with=SECRET)
    redirecting = _stand_in(307, b"{}", location=f"http://127.0.0.1:{target.server_port}/v1/rpc/ping")
    try:
        client = ec.EnclaveClient(f"http://127.0.0.1:{redirecting.server_port}", SECRET, timeout=5)
        with pytest.raises(ec.EnclaveError) as raised:
            client.ping()
        assert raised.value.status == 307 and raised.value.code == "answer_not_authenticated"
    finally:
        target.shutdown()
        redirecting.shutdown()
