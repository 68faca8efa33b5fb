"""The smoke checks of smoke.sh; standard library plus the enclave_core binding."""
import base64
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request

import enclave_core as ec

base = sys.argv[1].rstrip("/")
secret = os.environ.get("ENCLAVE_RPC_SHARED_SECRET") or "local-dev-enclave-rpc-secret"


def call(method, path, body=None, headers=None, raw=False):
    """(status, JSON answer), or with raw=True (status, body bytes, response headers)."""
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status, data, answer_headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, data, answer_headers = error.code, error.read(), error.headers
    return (status, data, answer_headers) if raw else (status, json.loads(data or b"null"))


def check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")
    if not ok:
        sys.exit(1)


try:
    status, health = call("GET", "/healthz")
except OSError as error:
    check("healthz reachable", False, str(error))
check("healthz", status == 200 and health.get("status") == "ok", f"{status} {health}")

status, document = call("GET", "/v1/attestation/document")
check("attestation document", status == 200 and document.get("runtime") and document.get("measurement"), f"{status}")
public_key = base64.b64decode(document.get("public_key") or "")
check("document publishes a 32-byte public key", len(public_key) == 32)

now = int(time.time())
challenge = {"challenge_nonce": secrets.token_hex(16), "issued_at": now, "expires_at": now + 60,
             "operation_purpose": "smoke", "request_id": "smoke-" + secrets.token_hex(4)}
status, evidence = call("POST", "/v1/attestation/challenge", json.dumps(challenge).encode(),
                        {"content-type": "application/json"})
check("challenge answered", status == 200, f"{status} {evidence}")
check("evidence echoes the challenge", all(evidence.get(k) == v for k, v in challenge.items()))
payload = ec.challenge_payload(evidence["runtime"], evidence["measurement"], evidence["challenge_nonce"],
                               evidence["issued_at"], evidence["expires_at"], evidence["operation_purpose"],
                               evidence["request_id"], evidence["evidence_issued_at"])
signature = base64.b64decode(evidence["signature"])
check("evidence signature verifies with the document's key", ec.ed25519_verify(public_key, payload, signature))

body = json.dumps({"contract_version": "v1", "request_id": "smoke-ping"}).encode()
ts, nonce = str(int(time.time())), secrets.token_hex(16)
headers = {"content-type": "application/json", "x-alfred-rpc-version": "v1", "x-alfred-rpc-ts": ts,
           "x-alfred-rpc-nonce": nonce,
           "x-alfred-rpc-signature": ec.sign_hex(secret.encode(), "POST", "/v1/rpc/ping", ts, nonce, body)}
signer = ec.RpcSigner(secret)
status, raw, answer_headers = call("POST", "/v1/rpc/ping", body, headers, raw=True)
pong = json.loads(raw)
check("signed ping accepted", status == 200 and pong.get("request_id") == "smoke-ping", f"{status} {pong}")
check("ping answer authenticated (x-alfred-rpc-response-signature)",
      signer.verify_response(headers["x-alfred-rpc-signature"], status, raw, answer_headers.get("x-alfred-rpc-response-signature")))
binding = base64.b64decode(pong.get("binding") or "")
check("ping binding verifies with the document's key",
      ec.ed25519_verify(public_key, ec.ping_binding_payload("smoke-ping", headers["x-alfred-rpc-signature"]), binding))
status, raw, answer_headers = call("POST", "/v1/rpc/ping", body, headers, raw=True)
replay = json.loads(raw)
check("replayed ping refused", status == 401 and replay["error"]["code"] == "request_replay_detected", f"{status}")
check("refusal authenticated",
      signer.verify_response(headers["x-alfred-rpc-signature"], status, raw, answer_headers.get("x-alfred-rpc-response-signature")))
print("smoke: all checks passed against " + base)
