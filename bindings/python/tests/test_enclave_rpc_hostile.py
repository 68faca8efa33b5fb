"""The C client (enclave-rpc), built under AddressSanitizer + UBSan, against loopback servers that
publish hostile attestation values and impostor answers: it must refuse each one with its word
and exit 1, never crash or write out of bounds."""
import base64
import http.server
import json
import os
import subprocess
import threading

import pytest
from conftest import ROOT

import enclave_core as ec

ASAN_RPC = ROOT / "build" / "c" / "enclave-rpc-asan"
SECRET = "hostile-test-secret-0123456789"
GOOD_KEY = ec.Signer(bytes(range(32)))


def compact(value):
    """JSON as the runtime writes it (enclave-rpc reads flat, compact JSON)."""
    return json.dumps(value, separators=(",", ":")).encode()


def serve(document, evidence=None, rpc=None):
    """document: dict for GET /v1/attestation/document; evidence(challenge) -> dict for the
    challenge; rpc(path, headers, body) -> (status, bytes, extra headers)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, data, extra=()):
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.reply(200, compact(document))

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path == "/v1/attestation/challenge":
                return self.reply(200, compact(evidence(json.loads(body))))
            self.reply(*rpc(self.path, self.headers, body))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(server, *args, pin=None):
    env = {**os.environ, "ENCLAVE_RUNTIME_BASE_URL": f"http://127.0.0.1:{server.server_port}",
           "ENCLAVE_RPC_SHARED_SECRET": SECRET, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99",
           "UBSAN_OPTIONS": "halt_on_error=1:exitcode=98"}
    env.pop("TEE_ATTESTATION_PUBLIC_KEY", None)
    pinned = ["--public-key", pin] if pin else []
    done = subprocess.run([str(ASAN_RPC), *pinned, *args], capture_output=True, text=True, env=env, timeout=30)
    server.shutdown()
    assert "Sanitizer" not in done.stderr, done.stderr
    return done.returncode, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def signed_evidence(signer=GOOD_KEY, **override):
    def answer(challenge):
        evidence = dict(challenge, runtime="nitro", measurement="m", evidence_issued_at=challenge["issued_at"])
        payload = ec.challenge_payload("nitro", "m", challenge["challenge_nonce"], challenge["issued_at"],
                                       challenge["expires_at"], challenge["operation_purpose"], challenge["request_id"],
                                       challenge["issued_at"])
        evidence["signature"] = base64.b64encode(signer.sign(payload)).decode()
        evidence.update(override)
        return evidence
    return answer


GOOD_DOC = {"runtime": "nitro", "measurement": "m", "public_key": base64.b64encode(GOOD_KEY.public_key).decode()}


@pytest.fixture(autouse=True)
def asan_build():
    if not ASAN_RPC.exists():
        pytest.fail(f"{ASAN_RPC} is missing: `make tools-asan` builds it")


@pytest.mark.parametrize("public_key", [
    base64.b64encode(bytes(93)).decode(),     # 124 characters: wrote 93 bytes into key[48] before
    base64.b64encode(bytes(33)).decode(),     # one byte too many
    base64.b64encode(bytes(31)).decode(),     # one too few
    "A" * 4096,                               # far too long
    "!!!!" * 11,                              # not base64, the right length
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # 43 characters, no padding
], ids=["93-bytes", "33-bytes", "31-bytes", "4096-chars", "not-base64", "unpadded"])
def test_document_keys_of_the_wrong_size_or_form_are_refused(public_key):
    server = serve(dict(GOOD_DOC, public_key=public_key), signed_evidence())
    assert run(server, "challenge") == (1, "bad_document")


@pytest.mark.parametrize("signature", [
    base64.b64encode(bytes(93)).decode(), base64.b64encode(bytes(65)).decode(), base64.b64encode(bytes(63)).decode(),
    "A" * 5000, "%%%%" * 22,
], ids=["93-bytes", "65-bytes", "63-bytes", "5000-chars", "not-base64"])
def test_evidence_signatures_of_the_wrong_size_or_form_are_refused(signature):
    server = serve(GOOD_DOC, signed_evidence(signature=signature))
    assert run(server, "challenge") == (1, "evidence_invalid")


def test_good_evidence_verifies_and_a_pinned_key_is_enforced():
    assert run(serve(GOOD_DOC, signed_evidence()), "challenge")[0] == 0
    pinned = base64.b64encode(GOOD_KEY.public_key).decode()
    assert run(serve(GOOD_DOC, signed_evidence()), "challenge", pin=pinned)[0] == 0
    other = base64.b64encode(ec.Signer(bytes(32)).public_key).decode()
    # The document publishes a key other than the pinned one.
    assert run(serve(GOOD_DOC, signed_evidence()), "challenge", pin=other) == (1, "key_mismatch")
    # A document without a key, evidence by another signer: the pinned key decides.
    no_key = {k: v for k, v in GOOD_DOC.items() if k != "public_key"}
    assert run(serve(no_key, signed_evidence()), "challenge", pin=other) == (1, "signature_invalid")


def pong(path, headers, body, secret=None, binding=None):
    request = json.loads(body)
    answer = {"contract_version": "v1", "request_id": request["request_id"],
              "attested_identity": {"runtime": "nitro", "measurement": "m"}}
    if binding is not None:
        answer["binding"] = binding(request["request_id"], headers["x-alfred-rpc-signature"])
    data = compact(answer)
    extra = []
    if secret:
        extra.append(("x-alfred-rpc-response-signature",
                      ec.RpcSigner(secret).sign_response_hex(headers["x-alfred-rpc-signature"], 200, data)))
    return 200, data, extra


def test_impostor_answers_are_refused():
    # No response signature.
    assert run(serve(GOOD_DOC, rpc=pong), "ping") == (1, "answer_not_authenticated")
    # Signed with another secret.
    assert run(serve(GOOD_DOC, rpc=lambda *a: pong(*a, secret="another-secret-0123456789")), "ping") == (1, "answer_not_authenticated")
    # Signed with the secret, but its binding is not the attested key's.
    forged = lambda rid, sig: base64.b64encode(ec.Signer(bytes(32)).sign(ec.ping_binding_payload(rid, sig))).decode()
    assert run(serve(GOOD_DOC, rpc=lambda *a: pong(*a, secret=SECRET, binding=forged)), "ping") == (1, "answer_not_authenticated: binding")
    # Oversized binding value.
    assert run(serve(GOOD_DOC, rpc=lambda *a: pong(*a, secret=SECRET, binding=lambda r, s: "A" * 300)), "ping") == (1, "answer_not_authenticated: binding")
    # The real thing: signed with the secret and bound by the attested key.
    genuine = lambda rid, sig: base64.b64encode(GOOD_KEY.sign(ec.ping_binding_payload(rid, sig))).decode()
    assert run(serve(GOOD_DOC, rpc=lambda *a: pong(*a, secret=SECRET, binding=genuine)), "ping")[0] == 0
