"""EnclaveClient: the enclave runtime's signed RPC and attestation, standard library HTTP only."""
from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid

from . import challenge_payload, ed25519_verify, RpcSigner


class EnclaveError(Exception):
    """A non-2xx answer (its envelope decoded) or a transport failure (code "unreachable")."""

    def __init__(self, code, status=None, message="", retryable=False, provider_status=None, oauth_error=None):
        super().__init__(f"{code} (status {status}): {message}")
        self.code, self.status, self.message, self.retryable = code, status, message, retryable
        self.provider_status, self.oauth_error = provider_status, oauth_error


class EnclaveClient:
    def __init__(self, base_url: str, secret: bytes | str, timeout: float = 10.0):
        self.base = base_url.rstrip("/")
        self.signer = RpcSigner(secret)
        self.timeout = timeout

    # -- signed RPCs ---------------------------------------------------------------------------
    def ping(self) -> dict:
        return self._rpc("/v1/rpc/ping", {})["attested_identity"]

    def exchange(self, user_id: str, connector_id: str) -> dict:
        return self._rpc("/v1/rpc/google/token/exchange", {"connector": {"user_id": user_id, "connector_id": connector_id}})

    def revoke(self, user_id: str, connector_id: str) -> dict:
        return self._rpc("/v1/rpc/google/token/revoke", {"connector": {"user_id": user_id, "connector_id": connector_id}})

    def register(self, user_id: str, authorization_code: str, redirect_uri: str, code_verifier: str | None = None) -> dict:
        body = {"user_id": user_id, "authorization_code": authorization_code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            body["code_verifier"] = code_verifier
        return self._rpc("/v1/rpc/google/connector/register", body)

    def signed_headers(self, path: str, body: bytes, ts: str | None = None, nonce: str | None = None) -> dict:
        ts = ts or str(int(time.time()))
        nonce = nonce or secrets.token_hex(16)  # 128 bits
        return {"content-type": "application/json", "x-alfred-rpc-version": "v1", "x-alfred-rpc-ts": ts,
                "x-alfred-rpc-nonce": nonce, "x-alfred-rpc-signature": self.signer.sign_hex("POST", path, ts, nonce, body)}

    def _rpc(self, path: str, fields: dict) -> dict:
        request_id = str(uuid.uuid4())
        body = json.dumps({"contract_version": "v1", "request_id": request_id, **fields}).encode()
        status, answer = self._send("POST", path, body, self.signed_headers(path, body))
        if answer.get("request_id") != request_id:
            raise EnclaveError("invalid_response", status, "the answer echoes another request_id")
        return answer

    # -- attestation ---------------------------------------------------------------------------
    def document(self) -> dict:
        return self._send("GET", "/v1/attestation/document")[1]

    def verified_challenge(self, public_key: bytes | None = None, purpose: str = "python-client") -> dict:
        """Issues a challenge and returns the evidence only when it verifies (EnclaveError otherwise).
        Without a pinned public_key the document's key is used (dev-shim only)."""
        if public_key is None:
            public_key = base64.b64decode(self.document().get("public_key") or "")
        now = int(time.time())
        challenge = {"challenge_nonce": secrets.token_hex(16), "issued_at": now, "expires_at": now + 60,
                     "operation_purpose": purpose, "request_id": str(uuid.uuid4())}
        evidence = self._send("POST", "/v1/attestation/challenge", json.dumps(challenge).encode(),
                              {"content-type": "application/json"})[1]
        if not verify_evidence(evidence, challenge, public_key):
            raise EnclaveError("evidence_invalid", 200, "the evidence does not verify")
        return evidence

    def _send(self, method, path, body=None, headers=None):
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            try:
                envelope = json.loads(error.read())
            except ValueError:
                envelope = None
            e = envelope.get("error", envelope) if isinstance(envelope, dict) else None
            if not isinstance(e, dict):
                raise EnclaveError("invalid_response", error.code, "no JSON error envelope") from None
            raise EnclaveError(e.get("code", "invalid_response"), error.code, e.get("message", ""), e.get("retryable", False),
                               e.get("provider_status"), e.get("oauth_error")) from None
        except (urllib.error.URLError, OSError) as error:
            raise EnclaveError("unreachable", None, str(error)) from None
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):  # every 2xx of the contract is a JSON object
            raise EnclaveError("invalid_response", status, "the answer is not a JSON object")
        return status, answer


def verify_evidence(evidence: dict, challenge: dict, public_key: bytes, max_skew: int = 30) -> bool:
    """True when the evidence echoes `challenge`, is fresh, and its signature verifies under public_key."""
    try:
        if any(evidence.get(k) != v for k, v in challenge.items()):
            return False
        issued = int(evidence["evidence_issued_at"])
        if not (challenge["issued_at"] - max_skew <= issued <= challenge["expires_at"]) or abs(time.time() - issued) > max_skew:
            return False
        payload = challenge_payload(evidence["runtime"], evidence["measurement"], challenge["challenge_nonce"],
                                    challenge["issued_at"], challenge["expires_at"], challenge["operation_purpose"],
                                    challenge["request_id"], issued)
        return ed25519_verify(public_key, payload, base64.b64decode(evidence["signature"]))
    except Exception:
        return False
