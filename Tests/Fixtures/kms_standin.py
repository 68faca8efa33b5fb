#!/usr/bin/env python3
"""AWS KMS standing in for the live tests of docs/contract.md §3b, with IMDSv2 beside it. No KMS
emulator implements Decrypt's `Recipient` (moto does not), so this one is written here, and checks
what AWS checks:
- AWS JSON 1.1 on POST / (`x-amz-target: TrentService.<Operation>`): GenerateDataKeyWithoutPlaintext,
  Encrypt and Decrypt, errors as 400 {"__type", "message"};
- every request's SigV4 signature recomputed with botocore's SigV4Auth (an independent signer) for
  the one access key it knows, service kms, the key's region;
- the key policy: Decrypt only with a Recipient whose attestation document verifies (COSE_Sign1
  ES384, its certificate chain up to the NSM simulator's root, which is given as PEM) and whose PCR0
  is the policy's; Encrypt refused under the `data-key` context;
- ciphertexts bound to the key and the encryption context (AES-256-GCM under a master key made at
  start); CiphertextForRecipient made by `openssl cms` (tools/kms/cms_for_key.py) for the document's
  public_key, BER as KMS writes it.
IMDSv2 under /latest/: a session token (PUT), the role, then credentials of the known key.

usage: kms_standin.py KEY_ARN ACCESS_KEY_ID SECRET_ACCESS_KEY ROOT_PEM PCR0_HEX
Needs build/venv (botocore). Test-only endpoints:
  POST /__fault  body MODE[:N]  the next Decrypts: none | throttle:N (N ThrottlingException first) |
                 internal (KMSInternalException, always) | http503 | denied (AccessDeniedException) |
                 plaintext (the answer also carries Plaintext) | other_key_id | bad_cms (OAEP with SHA-1) |
                 short_key (a 16-byte plaintext) | hang (no answer)
  POST /__imds   body SECONDS  the lifetime of the IMDS credentials issued next (default 21600)
  GET  /__stats  {"decrypts": N, "signed_with": [access key ids of Decrypts], "imds_credentials": N,
                  "refusals": {type: N}, "released": [base64 of each plaintext released]} (released: so the
                  egress tests can look for a data key in what crossed the parent)
"""
import base64
import datetime
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "nitro"))
sys.path.insert(0, os.path.join(ROOT, "tools", "kms"))
from fixture_server import send_body, serve  # noqa: E402
import cbor  # noqa: E402
import cms_for_key  # noqa: E402

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

KEY_ARN, ACCESS_KEY, SECRET_KEY, ROOT_PEM, PCR0 = sys.argv[1:6]
REGION = KEY_ARN.split(":")[3]
ROOT_CERT = x509.load_pem_x509_certificate(open(ROOT_PEM, "rb").read())
MASTER = AESGCM(secrets.token_bytes(32))
MAGIC = b"kms-standin/1"
lock = threading.Lock()
state = {"fault": "none", "fault_count": 0, "decrypts": 0, "signed_with": [], "imds_credentials": 0, "imds_lifetime": 21600,
         "refusals": {}, "imds_tokens": set(), "session_tokens": {}, "released": []}


class Refusal(Exception):
    def __init__(self, type_, message, status=400):
        super().__init__(message)
        self.type, self.message, self.status = type_, message, status


def context_bytes(context):
    return json.dumps([KEY_ARN, sorted((context or {}).items())]).encode()


def seal(plaintext, context):
    nonce = secrets.token_bytes(12)
    return MAGIC + nonce + MASTER.encrypt(nonce, plaintext, context_bytes(context))


def unseal(blob, context):
    if not blob.startswith(MAGIC):
        raise Refusal("InvalidCiphertextException", "not a ciphertext of this KMS")
    nonce, sealed = blob[len(MAGIC):len(MAGIC) + 12], blob[len(MAGIC) + 12:]
    try:
        return MASTER.decrypt(nonce, sealed, context_bytes(context))
    except Exception:
        raise Refusal("InvalidCiphertextException", "the ciphertext does not open under this encryption context")


def verify_signature(handler, body):
    """SigV4 as AWS checks it: botocore recomputes the signature over the request as received."""
    authorization = handler.headers.get("authorization", "")
    amz_date = handler.headers.get("x-amz-date", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 ") or not amz_date:
        raise Refusal("MissingAuthenticationTokenException", "no SigV4 signature")
    fields = dict(part.strip().split("=", 1) for part in authorization[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, date, region, service, _ = fields["Credential"].split("/")
    if key_id not in (ACCESS_KEY,) and key_id not in state["session_tokens"]:
        raise Refusal("UnrecognizedClientException", "the security token included in the request is invalid")
    if region != REGION or service != "kms":
        raise Refusal("InvalidSignatureException", "credential scope for another region or service")
    secret = SECRET_KEY if key_id == ACCESS_KEY else state["session_tokens"][key_id][0]
    token = state["session_tokens"][key_id][1] if key_id != ACCESS_KEY else None
    if token and handler.headers.get("x-amz-security-token") != token:
        raise Refusal("UnrecognizedClientException", "the session token does not belong to these credentials")
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(method="POST", url=f"http://{handler.headers['host']}/",
                         headers={name: handler.headers[name] for name in signed if name in handler.headers}, data=body)
    signer = SigV4Auth(Credentials(key_id, secret, token), "kms", REGION)
    request.context["timestamp"] = amz_date
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if signer.signed_headers(signer.headers_to_sign(request)) != fields["SignedHeaders"] or expected != fields["Signature"]:
        raise Refusal("InvalidSignatureException", "the request signature we calculated does not match the signature you provided")
    return key_id


def verify_attestation(document):
    """The document's COSE_Sign1 signature and certificate chain up to the simulator's root; its payload."""
    cose, _ = cbor.decode(document)
    if isinstance(cose, cbor.Tag):
        cose = cose.value
    protected, _unprotected, payload, signature = cose
    fields, _ = cbor.decode(payload)
    leaf = x509.load_der_x509_certificate(fields["certificate"])
    chain = [x509.load_der_x509_certificate(c) for c in fields["cabundle"]]
    if chain[0].fingerprint(hashes.SHA256()) != ROOT_CERT.fingerprint(hashes.SHA256()):
        raise Refusal("ValidationException", "the attestation document is not under the NSM root")
    issuers = chain + [leaf]
    now = datetime.datetime.utcnow()
    for issuer, certificate in zip(issuers, issuers[1:]):
        issuer.public_key().verify(certificate.signature, certificate.tbs_certificate_bytes,
                                   ec.ECDSA(certificate.signature_hash_algorithm))
        if not certificate.not_valid_before <= now <= certificate.not_valid_after:
            raise Refusal("ValidationException", "a certificate of the attestation document is not valid now")
    structure = cbor.encode(["Signature1", protected, b"", payload])
    r, s = int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big")
    leaf.public_key().verify(encode_dss_signature(r, s), structure, ec.ECDSA(hashes.SHA384()))
    return fields


def decrypt(request):
    with lock:
        state["decrypts"] += 1
        fault, count = state["fault"], state["fault_count"]
        if fault == "throttle" and count > 0:
            state["fault_count"] -= 1
    if fault == "hang":
        time.sleep(3600)
    if fault == "throttle" and count > 0:
        raise Refusal("ThrottlingException", "rate exceeded")
    if fault == "internal":
        raise Refusal("KMSInternalException", "internal error")
    if fault == "http503":
        raise Refusal("ServiceUnavailable", "unavailable", status=503)
    if fault == "denied":
        raise Refusal("AccessDeniedException", "not authorized by the key policy")
    if request.get("KeyId") not in (None, KEY_ARN):
        raise Refusal("IncorrectKeyException", "the ciphertext is not under the given key")
    recipient = request.get("Recipient")
    if not recipient:
        raise Refusal("AccessDeniedException", "the key policy requires kms:RecipientAttestation")
    if recipient.get("KeyEncryptionAlgorithm") != "RSAES_OAEP_SHA_256":
        raise Refusal("ValidationException", "KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256")
    try:
        fields = verify_attestation(base64.b64decode(recipient["AttestationDocument"], validate=True))
    except Refusal:
        raise
    except Exception:
        raise Refusal("ValidationException", "the attestation document does not verify")
    if fields["pcrs"].get(0, b"").hex() != PCR0:
        raise Refusal("AccessDeniedException", "kms:RecipientAttestation:PCR0 does not match the key policy")
    plaintext = unseal(base64.b64decode(request["CiphertextBlob"]), request.get("EncryptionContext"))
    if fault == "short_key":
        plaintext = plaintext[:16]
    options = None
    if fault == "bad_cms":
        options = ["-outform", "DER", "-stream", "-aes-256-cbc", "-keyopt", "rsa_padding_mode:oaep"]
    cms = cms_for_key.encrypt(plaintext, [fields["public_key"]], options)
    with lock:
        state["released"].append(base64.b64encode(plaintext).decode())
    answer = {"KeyId": "arn:aws:kms:%s:000000000000:key/other" % REGION if fault == "other_key_id" else KEY_ARN,
              "CiphertextForRecipient": base64.b64encode(cms).decode(), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    if fault == "plaintext":
        answer["Plaintext"] = base64.b64encode(plaintext).decode()
    return answer


def operate(target, request):
    if target == "TrentService.Decrypt":
        return decrypt(request)
    if request.get("KeyId") != KEY_ARN:
        raise Refusal("NotFoundException", "no such key")
    context = request.get("EncryptionContext") or {}
    if target == "TrentService.GenerateDataKeyWithoutPlaintext":
        size = 32 if request.get("KeySpec") == "AES_256" else int(request.get("NumberOfBytes", 0))
        if not 1 <= size <= 1024:
            raise Refusal("ValidationException", "KeySpec or NumberOfBytes is required")
        return {"CiphertextBlob": base64.b64encode(seal(secrets.token_bytes(size), context)).decode(), "KeyId": KEY_ARN}
    if target == "TrentService.Encrypt":
        # The key policy: no kms:Encrypt of a data key, whose plaintext the caller would then know.
        if context.get("enclave-runtime") == "data-key":
            raise Refusal("AccessDeniedException", "kms:Encrypt is denied under the data-key context")
        plaintext = base64.b64decode(request["Plaintext"])
        return {"CiphertextBlob": base64.b64encode(seal(plaintext, context)).decode(), "KeyId": KEY_ARN,
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    raise Refusal("UnknownOperationException", "unknown operation")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/x-amz-json-1.1"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        send_body(self, status, [("content-type", content_type)], data)

    def body(self):
        return self.rfile.read(int(self.headers.get("content-length", 0)))

    def do_PUT(self):
        self.body()
        if self.path == "/latest/api/token" and self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
            token = secrets.token_urlsafe(24)
            with lock:
                state["imds_tokens"].add(token)
            return self.reply(200, token.encode(), "text/plain")
        self.reply(403, b"", "text/plain")

    def imds(self):
        if self.headers.get("x-aws-ec2-metadata-token") not in state["imds_tokens"]:
            return self.reply(401, b"", "text/plain")
        if self.path == "/latest/meta-data/iam/security-credentials/":
            return self.reply(200, b"enclave-runtime-role\n", "text/plain")
        if self.path == "/latest/meta-data/iam/security-credentials/enclave-runtime-role":
            with lock:
                state["imds_credentials"] += 1
                key_id = "ASIA" + secrets.token_hex(8).upper()
                secret, token = secrets.token_urlsafe(30), secrets.token_urlsafe(60)
                state["session_tokens"][key_id] = (secret, token)
                expiration = datetime.datetime.utcnow() + datetime.timedelta(seconds=state["imds_lifetime"])
            return self.reply(200, {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": key_id, "SecretAccessKey": secret,
                                    "Token": token, "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}, "text/plain")
        self.reply(404, b"", "text/plain")

    def do_GET(self):
        if self.path.startswith("/latest/"):
            return self.imds()
        if self.path == "/__stats":
            with lock:
                stats = {key: state[key] for key in ("decrypts", "signed_with", "imds_credentials", "refusals", "released")}
            return self.reply(200, stats, "application/json")
        self.reply(404, b"", "text/plain")

    def do_POST(self):
        body = self.body()
        if self.path == "/__fault":
            mode, _, count = body.decode().partition(":")
            with lock:
                state["fault"], state["fault_count"] = mode, int(count or 0)
            return self.reply(200, b"ok", "text/plain")
        if self.path == "/__imds":
            with lock:
                state["imds_lifetime"] = int(body)
            return self.reply(200, b"ok", "text/plain")
        try:
            if self.path != "/" or self.headers.get("content-type") != "application/x-amz-json-1.1":
                raise Refusal("UnknownOperationException", "not AWS JSON 1.1")
            key_id = verify_signature(self, body)
            target = self.headers.get("x-amz-target", "")
            if target == "TrentService.Decrypt":
                with lock:
                    state["signed_with"].append(key_id)
            answer = operate(target, json.loads(body))
        except Refusal as refusal:
            with lock:
                state["refusals"][refusal.type] = state["refusals"].get(refusal.type, 0) + 1
            return self.reply(refusal.status, {"__type": f"com.amazonaws.kms#{refusal.type}", "message": refusal.message})
        self.reply(200, answer)


serve(Handler)
