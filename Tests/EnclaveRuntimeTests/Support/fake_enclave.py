#!/usr/bin/python3
"""A scriptable impostor of the enclave runtime for the hosts' fail-closed tests.

Usage: fake_enclave.py MODE; prints "PORT <n>" and "PUBLIC_KEY <base64>" once listening; exits when
stdin closes. Modes: healthz500, no_measurement, other_measurement, impostor (evidence signed by a key
other than the one it publishes), wrong_nonce (evidence echoes another nonce), stale (old
evidence_issued_at), nitro_replay (a genuine Nitro document from the NSM simulator at $NSM_SOCKET,
vouching for a key it publishes, replayed with evidence signed by a key of its own). Evidence is
built with the project's own C core (enclave_core binding).
"""
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import enclave_core as ec

MODE = sys.argv[1]
published = ec.Signer(ec.random_bytes(32))
signing = ec.Signer(ec.random_bytes(32)) if MODE in ("impostor", "nitro_replay") else published
MEASUREMENT = "someone-else" if MODE == "other_measurement" else "dev-local-enclave"
NITRO = None
if MODE == "nitro_replay":
    NITRO = ec.nsm_attest("unix:" + os.environ["NSM_SOCKET"], public_key=published.public_key, user_data=b"enclave-runtime/v1")
    MEASUREMENT = ec.parse_nitro_document(NITRO).pcrs[0].hex()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(500 if MODE == "healthz500" else 200, {"status": "ok"})
        if self.path == "/v1/attestation/document":
            doc = {"runtime": "nitro", "issued_at": int(time.time()), "signature": None, "dev_shim": True,
                   "public_key": base64.b64encode(published.public_key).decode()}
            if MODE != "no_measurement":
                doc["measurement"] = MEASUREMENT
            if NITRO is not None:
                doc.update(dev_shim=False, format="aws-nitro-cose", attestation_document=base64.b64encode(NITRO).decode())
            return self.reply(200, doc)
        self.reply(404, {})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        if self.path == "/v1/attestation/challenge":
            nonce = "not-" + body["challenge_nonce"] if MODE == "wrong_nonce" else body["challenge_nonce"]
            issued = int(time.time()) - (1000 if MODE == "stale" else 0)
            payload = ec.challenge_payload("nitro", MEASUREMENT, nonce, body["issued_at"], body["expires_at"],
                                           body["operation_purpose"], body["request_id"], issued)
            evidence = dict(body, runtime="nitro", measurement=MEASUREMENT, challenge_nonce=nonce,
                            evidence_issued_at=issued, signature=base64.b64encode(signing.sign(payload)).decode())
            return self.reply(200, evidence)
        if self.path == "/v1/rpc/ping":
            return self.reply(200, {"contract_version": "v1", "request_id": body.get("request_id"),
                                    "attested_identity": {"runtime": "nitro", "measurement": MEASUREMENT}})
        self.reply(404, {})


def exit_with_parent():
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
httpd.daemon_threads = True
print(f"PORT {httpd.server_address[1]}", flush=True)
httpd.serve_forever()
