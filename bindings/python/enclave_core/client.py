"""EnclaveClient: the enclave runtime's signed RPC and attestation, standard library HTTP only.

Every RPC answer is trusted only once its x-alfred-rpc-response-signature verifies for the request
it answers (docs/contract.md §2a); otherwise the call raises EnclaveError("answer_not_authenticated").
"""
from __future__ import annotations

import base64
import http.client
import json
import secrets
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from . import (attested_certificate_document, challenge_payload, ed25519_verify, evidence_text_ok, ping_binding_payload,
               pcrs_match, RpcSigner, verify_nitro_document)

RESPONSE_SIGNATURE = "x-alfred-rpc-response-signature"


class EnclaveError(Exception):
    """A non-2xx answer (its envelope decoded), an answer that is not the enclave's (code
    "answer_not_authenticated"), one of the wrong shape ("invalid_response"), or a transport
    failure ("unreachable")."""

    def __init__(self, code, status=None, message="", retryable=False, provider_status=None, oauth_error=None):
        super().__init__(f"{code} (status {status}): {message}")
        self.code, self.status, self.message, self.retryable = code, status, message, retryable
        self.provider_status, self.oauth_error = provider_status, oauth_error


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A signed request is never sent on to another origin: a 3xx is an answer."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class EnclaveClient:
    """Signed RPCs to the enclave. With `attested` (an https:// base, docs/contract.md §2b), each
    connection is TLS 1.3 and, after its handshake and before anything is sent, its certificate's
    document must pass `attested(document, key)` (which raises when it does not) with the
    certificate's key as the document's public_key; answers are then judged against that key."""

    def __init__(self, base_url: str, secret: bytes | str, timeout: float = 10.0, attested=None):
        self.base = base_url.rstrip("/")
        self.signer = RpcSigner(secret)
        self.timeout = timeout
        self.attested = attested
        # The key of the connection that carried the latest answer (attested TLS only).
        self.channel_key: bytes | None = None
        self._verified: dict[bytes, bytes] = {}  # document bytes -> key, so a known document costs a handshake only
        if attested is not None and not self.base.startswith("https://"):
            raise EnclaveError("configuration", None, "attested TLS needs an https:// base URL")

    # -- signed RPCs ---------------------------------------------------------------------------
    def ping(self, binding_key: bytes | None = None) -> dict:
        """The attested identity. With binding_key (the Ed25519 key evidence verified with), the
        answer's binding must verify for this request: only the attested enclave can answer."""
        answer, request_id, signature = self._rpc_signed("/v1/rpc/ping", {})
        binding_key = binding_key or self.channel_key
        if binding_key is not None:
            try:
                binding = base64.b64decode(answer["binding"], validate=True)
                ok = ed25519_verify(binding_key, ping_binding_payload(request_id, signature), binding)
            except Exception:
                ok = False
            if not ok:
                raise EnclaveError("answer_not_authenticated", 200, "the ping's binding does not verify with the attested key")
        return answer["attested_identity"]

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
        return self._rpc_signed(path, fields)[0]

    def _rpc_signed(self, path: str, fields: dict) -> tuple[dict, str, str]:
        request_id = str(uuid.uuid4())
        body = json.dumps({"contract_version": "v1", "request_id": request_id, **fields}).encode()
        headers = self.signed_headers(path, body)
        signature = headers["x-alfred-rpc-signature"]
        status, raw, answer_headers = self._exchange("POST", path, body, headers)
        if not self.signer.verify_response(signature, status, raw, _single(answer_headers, RESPONSE_SIGNATURE)):
            claimed = _envelope(raw).get("code") if status >= 300 else None
            raise EnclaveError("answer_not_authenticated", status,
                               f"the answer carries no valid response signature (it claims {claimed or status})")
        answer = _json_object(status, raw)
        if answer.get("request_id") != request_id:
            raise EnclaveError("invalid_response", status, "the answer echoes another request_id")
        return answer, request_id, signature

    # -- attestation ---------------------------------------------------------------------------
    def document(self) -> dict:
        status, raw, _ = self._exchange("GET", "/v1/attestation/document")
        return _json_object(status, raw)

    def verified_challenge(self, public_key: bytes | None = None, purpose: str = "python-client", *,
                           expected_runtime: str = "nitro", allowed_measurements=("dev-local-enclave",),
                           allow_insecure_dev: bool = False, max_skew: int = 30) -> dict:
        """Issues a challenge and returns the evidence only when it verifies (EnclaveError otherwise):
        echoed fields, freshness, runtime, an allowed measurement, and the signature under
        public_key. Without a pinned public_key the document's own key is trusted only with
        allow_insecure_dev=True against a dev-shim document (local development)."""
        if public_key is None:
            document = self.document()
            if not (allow_insecure_dev and document.get("dev_shim") is True):
                raise EnclaveError("evidence_invalid", None, "no pinned public key (the document's own key is trusted only for a dev-shim enclave with allow_insecure_dev)")
            try:
                public_key = base64.b64decode(document.get("public_key") or "", validate=True)
            except ValueError:
                raise EnclaveError("evidence_invalid", None, "the document's public_key is not base64") from None
        now = int(time.time())
        challenge = {"challenge_nonce": secrets.token_hex(16), "issued_at": now, "expires_at": now + 60,
                     "operation_purpose": purpose, "request_id": str(uuid.uuid4())}
        status, raw, _ = self._exchange("POST", "/v1/attestation/challenge", json.dumps(challenge).encode(),
                                        {"content-type": "application/json"})
        evidence = _json_object(status, raw)
        if not verify_evidence(evidence, challenge, public_key, expected_runtime=expected_runtime,
                               allowed_measurements=allowed_measurements, max_skew=max_skew):
            raise EnclaveError("evidence_invalid", 200, "the evidence does not verify")
        return evidence

    def _exchange(self, method, path, body=None, headers=None) -> tuple[int, bytes, dict]:
        """Status, raw body and headers of any answer; only a failed call raises."""
        if self.attested is not None:
            return self._exchange_attested(method, path, body, headers)
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers
        except (urllib.error.URLError, OSError) as error:
            raise EnclaveError("unreachable", None, str(error)) from None


    def _exchange_attested(self, method, path, body, headers) -> tuple[int, bytes, dict]:
        url = urllib.parse.urlsplit(self.base)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        # No chain and no host name: the document in the certificate is what is verified (§2b).
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        connection = http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=self.timeout, context=context)
        try:
            try:
                connection.connect()
            except OSError as error:
                raise EnclaveError("unreachable", None, str(error)) from None
            self.channel_key = self._attest(connection.sock.getpeercert(binary_form=True) or b"")
            connection.request(method, url.path.rstrip("/") + path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read(), response.headers
        except OSError as error:
            raise EnclaveError("unreachable", None, str(error)) from None
        finally:
            connection.close()

    def _attest(self, certificate: bytes) -> bytes:
        """The connection's key, once its document is verified; EnclaveError channel_not_attested otherwise."""
        try:
            document, key = attested_certificate_document(certificate)
        except Exception:
            raise EnclaveError("channel_not_attested", None, "the certificate is not an attested certificate") from None
        if self._verified.get(document) == key:
            return key
        try:
            parsed = json.loads(document)
            if base64.b64decode(parsed.get("public_key") or "", validate=True) != key:
                raise ValueError("the certificate's key is not the document's public_key")
            self.attested(parsed, key)
        except Exception as error:
            raise EnclaveError("channel_not_attested", None, f"the channel's document does not verify: {error}") from None
        self._verified[document] = key
        return key


def dev_shim_channel(expected_runtime: str = "nitro", allowed_measurements=("dev-local-enclave",)):
    """The local check of a dev-shim enclave's channel document (local development only)."""
    def check(document: dict, key: bytes) -> None:
        if document.get("dev_shim") is not True or document.get("runtime") != expected_runtime \
                or document.get("measurement") not in allowed_measurements:
            raise ValueError("not an allowed dev-shim document")
    return check


def nitro_channel(root_der: bytes | None, pcr_policy: str, max_age_ms: int = 300_000):
    """A Nitro document's check (docs/contract.md §3a): the chain to `root_der` (AWS's when None),
    the PCR policy and the maximum age; its public_key is the channel's key."""
    def check(document: dict, key: bytes) -> None:
        raw = base64.b64decode(document["attestation_document"], validate=True)
        verified = verify_nitro_document(raw, at_ms=int(time.time() * 1000), root_der=root_der, max_age_ms=max_age_ms)
        if verified.public_key != key or not pcrs_match(verified.pcrs, pcr_policy):
            raise ValueError("the Nitro document does not vouch for this key under the PCR policy")
    return check


def _single(headers, name):
    values = headers.get_all(name) if headers is not None else None
    return values[0] if values and len(values) == 1 else None


def _envelope(raw: bytes) -> dict:
    try:
        answer = json.loads(raw)
    except ValueError:
        return {}
    error = answer.get("error", answer) if isinstance(answer, dict) else None
    return error if isinstance(error, dict) else {}


def _json_object(status: int, raw: bytes) -> dict:
    """A 2xx answer as a JSON object, or the EnclaveError its envelope (or its shape) says."""
    if status >= 300:
        e = _envelope(raw)
        if not e or "code" not in e:
            raise EnclaveError("invalid_response", status, "no JSON error envelope")
        raise EnclaveError(e.get("code", "invalid_response"), status, e.get("message", ""), e.get("retryable", False),
                           e.get("provider_status"), e.get("oauth_error"))
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):  # every 2xx of the contract is a JSON object
        raise EnclaveError("invalid_response", status, "the answer is not a JSON object")
    return answer


def verify_evidence(evidence: dict, challenge: dict, public_key: bytes, *, expected_runtime: str,
                    allowed_measurements, max_skew: int = 30) -> bool:
    """True when the evidence echoes `challenge`, names expected_runtime (any case) and one of
    allowed_measurements, is fresh, and its signature verifies under public_key."""
    try:
        if any(evidence.get(k) != v for k, v in challenge.items()):
            return False
        runtime, measurement = evidence["runtime"], evidence["measurement"]
        if not isinstance(runtime, str) or runtime.lower() != expected_runtime.lower():
            return False
        if not isinstance(measurement, str) or measurement not in allowed_measurements:
            return False
        if not (evidence_text_ok(runtime) and evidence_text_ok(measurement)):
            return False
        issued = evidence["evidence_issued_at"]
        if type(issued) is not int:
            return False
        if not (challenge["issued_at"] - max_skew <= issued <= challenge["expires_at"]) or abs(time.time() - issued) > max_skew:
            return False
        payload = challenge_payload(runtime, measurement, challenge["challenge_nonce"], challenge["issued_at"],
                                    challenge["expires_at"], challenge["operation_purpose"], challenge["request_id"], issued)
        return ed25519_verify(public_key, payload, base64.b64decode(evidence["signature"], validate=True))
    except Exception:
        return False
