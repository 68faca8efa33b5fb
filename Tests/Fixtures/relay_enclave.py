#!/usr/bin/python3
"""A relay between hosts and a real enclave runtime, for the hosts' authenticated-answer tests.

Usage: relay_enclave.py UPSTREAM_BASE MODE [SECRET]; prints "PORT <n>" once listening; exits when
stdin closes. Everything but /v1/rpc/ is forwarded to UPSTREAM as is (so attestation is the real
enclave's). What happens to RPCs depends on the mode, which POST /__mode (body: MODE [ARG]) switches:
  forward               forwarded as is
  impostor              answered by the relay itself, with made-up tokens and no response signature
  impostor_with_secret  the same, its answers signed with SECRET (the shared secret), its ping
                        binding made with a key of its own
  alter_status          forwarded, a 200 turned into 201 (signature header kept)
  alter_body            forwarded, one byte of the body changed (still JSON)
  alter_header          forwarded, one digit of the response signature flipped
  strip_header          forwarded without the response signature
  drip                  forwarded, the body sent one byte every 0.7 s
  redirect URL          answered 307 with location URL + the request's path
  unhealthy             /healthz answered 500 (the rest as in forward)
GET /__stats -> {"rpc_requests": N} counts the RPC requests this relay received.
"""
import base64
import http.client
import json
import os
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

from fixture_server import send_body, serve

import enclave_core as ec

UPSTREAM = urllib.parse.urlsplit(sys.argv[1])
state = {"mode": sys.argv[2], "arg": None, "rpc_requests": 0}
SECRET = sys.argv[3] if len(sys.argv) > 3 else None
own_key = ec.Signer(ec.random_bytes(32))
lock = threading.Lock()


def forward(method, path, headers, body):
    connection = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    kept = [(k, v) for k, v in response.getheaders() if k.lower() in ("content-type", "x-alfred-rpc-response-signature", "allow")]
    connection.close()
    return response.status, kept, data


def made_up_answer(path, request):
    rid = request.get("request_id")
    identity = {"runtime": "nitro", "measurement": "dev-local-enclave"}
    if path.endswith("/ping"):
        return {"contract_version": "v1", "request_id": rid, "attested_identity": identity}
    if path.endswith("/register"):
        return {"contract_version": "v1", "request_id": rid, "connector": {"user_id": request.get("user_id"),
                "connector_id": str(uuid.uuid4())}, "scope": "s", "access_token": "impostor-access-token",
                "expires_in": 3599, "attested_identity": identity}
    if path.endswith("/exchange"):
        return {"contract_version": "v1", "request_id": rid, "access_token": "impostor-access-token", "expires_in": 3599,
                "scope": "s", "attested_identity": identity}
    return {"contract_version": "v1", "request_id": rid, "attested_identity": identity}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers, data, drip=False):
        send_body(self, status, headers, data, drip)

    def do_GET(self):
        if self.path == "/__stats":
            with lock:
                return self.reply(200, [("content-type", "application/json")], json.dumps({"rpc_requests": state["rpc_requests"]}).encode())
        if self.path == "/healthz" and state["mode"] == "unhealthy":
            return self.reply(500, [("content-type", "application/json")], b'{"status":"unhealthy"}')
        self.reply(*forward("GET", self.path, dict(self.headers), None))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/__mode":
            words = body.decode().split()
            with lock:
                state["mode"], state["arg"] = words[0], (words[1] if len(words) > 1 else None)
            return self.reply(200, [], b"{}")
        if not self.path.startswith("/v1/rpc/"):
            return self.reply(*forward("POST", self.path, dict(self.headers), body))
        with lock:
            state["rpc_requests"] += 1
            mode, arg = state["mode"], state["arg"]
        if mode == "redirect":
            return self.reply(307, [("location", arg + self.path), ("content-type", "application/json")], b"{}")
        if mode in ("impostor", "impostor_with_secret"):
            request = json.loads(body or b"{}")
            answer = made_up_answer(self.path, request)
            headers = [("content-type", "application/json")]
            request_sig = self.headers.get("x-alfred-rpc-signature", "")
            if mode == "impostor_with_secret":
                if self.path.endswith("/ping"):
                    payload = ec.ping_binding_payload(request.get("request_id", ""), request_sig)
                    answer["binding"] = base64.b64encode(own_key.sign(payload)).decode()
            data = json.dumps(answer, separators=(",", ":")).encode()
            if mode == "impostor_with_secret":
                headers.append(("x-alfred-rpc-response-signature", ec.RpcSigner(SECRET).sign_response_hex(request_sig, 200, data)))
            return self.reply(200, headers, data)
        status, headers, data = forward("POST", self.path, dict(self.headers), body)
        if mode == "alter_status" and status == 200:
            status = 201
        elif mode == "alter_body":
            data = data.replace(b'"contract_version":"v1"', b'"contract_version": "v1"', 1)
        elif mode == "alter_header":
            headers = [(k, (("0" if v[0] != "0" else "1") + v[1:]) if k.lower() == "x-alfred-rpc-response-signature" else v)
                       for k, v in headers]
        elif mode == "strip_header":
            headers = [(k, v) for k, v in headers if k.lower() != "x-alfred-rpc-response-signature"]
        self.reply(status, headers, data, drip=mode == "drip")


serve(Handler)
