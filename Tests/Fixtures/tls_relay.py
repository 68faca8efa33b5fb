#!/usr/bin/python3
"""What sits on a path the project does not trust, for the live tests: between hosts and an
attested-TLS runtime (docs/contract.md §2b), and in front of the egress proxy (issue 33: the
parent instance's view of the runtime's outbound calls).

usage: tls_relay.py RECORD_FILE UPSTREAM_PORT [UPSTREAM_PORT ...]   (upstreams on 127.0.0.1)
Prints "PORT <n>"; exits when stdin closes. POST /__mode on the control port (printed as
"CONTROL <n>") switches how new connections are handled:
  passthrough   a TCP relay: bytes both ways, recorded to RECORD_FILE, upstreams in round robin
                (a TCP load balancer in front of replicas)
  terminate     the open tunnels cut, then TLS terminated here with a certificate of the relay's own Ed25519 key carrying a
                copy of the first upstream's document (what a relay holding the shared secret and
                a copy of the document would do); whatever a host then sends in the clear is
                counted (GET /__stats -> {"terminated_requests": N, "terminated_bytes": N,
                "connections": [per upstream]}) and forwarded to the upstream over TLS.
"""
import base64
import json
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "bindings", "python"))
import enclave_core as ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat  # noqa: E402

RECORD, UPSTREAMS = sys.argv[1], [int(p) for p in sys.argv[2:]]
lock = threading.Lock()
state = {"mode": "passthrough", "next": 0, "terminated_requests": 0, "terminated_bytes": 0,
         "connections": [0] * len(UPSTREAMS), "open": []}


def unverified():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def upstream_document():
    with socket.create_connection(("127.0.0.1", UPSTREAMS[0]), timeout=5) as raw:
        with unverified().wrap_socket(raw) as tls:
            tls.sendall(b"GET /v1/attestation/document HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    return answer.split(b"\r\n\r\n", 1)[1]


def terminating_context():
    """A TLS context with the relay's own key and a copy of the real document."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    der = ec.attested_certificate(ec.Signer(seed), upstream_document(), int(time.time()) - 60, int(time.time()) + 86400)
    directory = tempfile.mkdtemp(prefix="tls-relay-")
    with open(f"{directory}/cert.pem", "wb") as f:
        f.write(b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n")
    with open(f"{directory}/key.pem", "wb") as f:
        f.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(f"{directory}/cert.pem", f"{directory}/key.pem")
    return context


def pump(source, sink, record):
    try:
        while data := source.recv(65536):
            if record:
                with lock, open(RECORD, "ab") as f:
                    f.write(data)
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def passthrough(client):
    with lock:
        index = state["next"] % len(UPSTREAMS)
        state["next"] += 1
        state["connections"][index] += 1
    try:
        upstream = socket.create_connection(("127.0.0.1", UPSTREAMS[index]))
    except OSError:
        client.close()
        return
    with lock:
        state["open"] += [client, upstream]
    threading.Thread(target=pump, args=(client, upstream, True), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, True), daemon=True).start()


def terminate(client, context):
    try:
        tls = context.wrap_socket(client, server_side=True)
    except (OSError, ssl.SSLError):
        client.close()  # the host refused the certificate in its handshake
        return
    try:
        tls.settimeout(5)
        data = tls.recv(65536)
        if data:
            with lock:
                state["terminated_requests"] += 1
                state["terminated_bytes"] += len(data)
            upstream = unverified().wrap_socket(socket.create_connection(("127.0.0.1", UPSTREAMS[0])))
            upstream.sendall(data)
            threading.Thread(target=pump, args=(tls, upstream, False), daemon=True).start()
            pump(upstream, tls, False)
    except (OSError, ssl.SSLError):
        pass
    finally:
        tls.close()


class Control(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        mode = self.rfile.read(int(self.headers.get("content-length", 0))).decode().strip()
        with lock:
            state["mode"] = mode
            # Switched in: the tunnels open so far are cut, as a relay put on the path would cut them.
            for sock in state["open"]:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            state["open"] = []
        self.reply({"mode": mode})

    def do_GET(self):
        with lock:
            self.reply({k: state[k] for k in ("terminated_requests", "terminated_bytes", "connections")})


def serve():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    control = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f"PORT {listener.getsockname()[1]}\nCONTROL {control.server_address[1]}", flush=True)
    context = None
    while True:
        client, _ = listener.accept()
        with lock:
            mode = state["mode"]
        if mode == "terminate":
            context = context or terminating_context()
            threading.Thread(target=terminate, args=(client, context), daemon=True).start()
        else:
            passthrough(client)


def exit_with_parent():
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
serve()
