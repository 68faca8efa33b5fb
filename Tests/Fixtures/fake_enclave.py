#!/usr/bin/python3
"""A scriptable impostor of the enclave runtime for the hosts' fail-closed tests.

Usage: fake_enclave.py MODE; prints "PORT <n>" and "PUBLIC_KEY <base64>" once listening; exits when
stdin closes. Modes: healthz500, no_measurement, other_measurement, impostor (evidence signed by a key
other than the one it publishes), wrong_nonce (evidence echoes another nonce), stale (old
evidence_issued_at), nitro_replay (a genuine Nitro document from the NSM simulator at $NSM_SOCKET,
vouching for a key it publishes, replayed with evidence signed by a key of its own), nitro_poison
(the link-cache attack of issue 31: POST /__phase genuine|poison|forged serves a genuine document
for its own key, then that document with a CA of its own inserted at cabundle[1], then a document
it made itself, root -> that CA -> its own leaf, with the genuine PCRs and its key). Evidence is
built with the project's own C core (enclave_core binding).
"""
import base64
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler

from fixture_server import send_body, serve

import enclave_core as ec

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "nitro"))

MODE = sys.argv[1]
published = ec.Signer(ec.random_bytes(32))
signing = ec.Signer(ec.random_bytes(32)) if MODE in ("impostor", "nitro_replay") else published
MEASUREMENT = "someone-else" if MODE == "other_measurement" else "dev-local-enclave"
NITRO = None
PHASE = {"now": "genuine"}
if MODE in ("nitro_replay", "nitro_poison"):
    NITRO = ec.nsm_attest("unix:" + os.environ["NSM_SOCKET"], public_key=published.public_key, user_data=b"enclave-runtime/v1")
    MEASUREMENT = ec.parse_nitro_document(NITRO).pcrs[0].hex()


def poisoned_documents(genuine):
    """The genuine document with the attacker's CA X at cabundle[1] (signature kept), and a maker
    of documents root -> X -> the attacker's leaf, vouching for this server's key."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec as curves
    from cryptography.x509.oid import NameOID

    import nitro_forge as forge
    from cbor import Map, decode, encode

    def certificate(subject, issuer, key, issuer_key, ca):
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])  # noqa: E731
        return (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer)).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(hours=3))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                             encipher_only=False, decipher_only=False), critical=True)
                .sign(issuer_key, hashes.SHA384()))

    protected, _, payload_bytes, signature = decode(genuine)[0]
    payload = decode(payload_bytes)[0]
    x_key, leaf_key = curves.generate_private_key(curves.SECP384R1()), curves.generate_private_key(curves.SECP384R1())
    x = certificate("forged-ca", "forged-ca", x_key, x_key, True)
    leaf = certificate("forged-enclave", "forged-ca", leaf_key, x_key, False)
    inserted = dict(payload, cabundle=[payload["cabundle"][0], forge.der(x)] + payload["cabundle"][1:])
    poison = encode([protected, {}, encode(Map(list(inserted.items()))), signature])

    def forged():
        fields = dict(payload, timestamp=int(time.time() * 1000), certificate=forge.der(leaf), cabundle=[payload["cabundle"][0], forge.der(x)])
        return forge.sign(leaf_key, encode(Map(list(fields.items()))), protected=protected)
    return poison, forged


if MODE == "nitro_poison":
    POISON, FORGED = poisoned_documents(NITRO)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, obj, signature=None):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        headers = [("content-type", "application/json")]
        if signature is not None:
            headers.append(("x-alfred-rpc-response-signature", signature))
        send_body(self, status, headers, data)

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(500 if MODE == "healthz500" else 200, {"status": "ok"})
        if self.path == "/v1/attestation/document":
            doc = {"runtime": "nitro", "issued_at": int(time.time()), "signature": None, "dev_shim": True,
                   "public_key": base64.b64encode(published.public_key).decode()}
            if MODE != "no_measurement":
                doc["measurement"] = MEASUREMENT
            if NITRO is not None:
                served = {"genuine": lambda: NITRO, "poison": lambda: POISON, "forged": lambda: FORGED()}[PHASE["now"]]()
                doc.update(dev_shim=False, format="aws-nitro-cose", attestation_document=base64.b64encode(served).decode())
            return self.reply(200, doc)
        self.reply(404, {})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/__phase":
            PHASE["now"] = raw.decode()
            return self.reply(200, {"phase": PHASE["now"]})
        body = json.loads(raw or b"{}")
        if self.path == "/v1/attestation/challenge":
            nonce = "not-" + body["challenge_nonce"] if MODE == "wrong_nonce" else body["challenge_nonce"]
            issued = int(time.time()) - (1000 if MODE == "stale" else 0)
            payload = ec.challenge_payload("nitro", MEASUREMENT, nonce, body["issued_at"], body["expires_at"],
                                           body["operation_purpose"], body["request_id"], issued)
            evidence = dict(body, runtime="nitro", measurement=MEASUREMENT, challenge_nonce=nonce,
                            evidence_issued_at=issued, signature=base64.b64encode(signing.sign(payload)).decode())
            return self.reply(200, evidence)
        if self.path == "/v1/rpc/ping":
            answer = {"contract_version": "v1", "request_id": body.get("request_id"),
                      "attested_identity": {"runtime": "nitro", "measurement": MEASUREMENT}}
            if MODE != "nitro_poison":
                return self.reply(200, answer)
            # As the runtime answers: bound to the evidence key, signed with the shared secret.
            request_sig = self.headers.get("x-alfred-rpc-signature", "")
            answer["binding"] = base64.b64encode(signing.sign(ec.ping_binding_payload(body.get("request_id", ""), request_sig))).decode()
            data = json.dumps(answer, separators=(",", ":")).encode()
            secret = os.environ.get("ENCLAVE_RPC_SHARED_SECRET", "local-dev-enclave-rpc-secret")
            return self.reply(200, data, signature=ec.RpcSigner(secret).sign_response_hex(request_sig, 200, data))
        self.reply(404, {})


serve(Handler)
