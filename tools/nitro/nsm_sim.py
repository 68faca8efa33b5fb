#!/usr/bin/python3
"""An NSM simulator for local development and tests (docs/contract.md §3a): a Unix stream socket
speaking the NSM's CBOR Attestation request and answer, each message framed by a 4-byte big-endian
length, several per connection. Documents have the real structure and sizes (COSE_Sign1, ES384,
48-byte PCRs) and are signed by a throwaway CA made at start (root -> intermediate -> leaf, P-384),
whose root it writes as PEM where hosts can pin it. It is a local tool: the runtime refuses a
unix: device outside local, and hosts refuse any root but AWS's outside local.

usage: nsm_sim.py --socket PATH --root-out PEM [--pcrs POLICY_SET] [--lifeline]
Prints "CONTROL <port>", "ROOT <pem path>" and "PCRS <the set in TEE_ALLOWED_PCRS syntax>", then
serves. With --lifeline it exits when its stdin closes (tests). A control server on loopback:
  POST /pcrs      body INDEX=HEX,...   the PCRs of the next documents
  POST /backdate  body MS              the next documents' timestamp is MS in the past
  POST /mode      body normal|error|silent   answer, answer {"Error": ...}, or close without a word
  GET  /stats     {"documents": N, "requests": N}
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nitro_forge as forge  # noqa: E402
from cbor import decode, encode  # noqa: E402

DEFAULT_PCRS = forge.pcr_set(seed=7, indexes=(0, 1, 2, 8))


def parse_pcrs(text):
    pcrs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        index, value = item.split("=", 1)
        pcrs[int(index)] = bytes.fromhex(value.strip())
    return pcrs


def policy(pcrs):
    return ",".join(f"{i}={v.hex()}" for i, v in sorted(pcrs.items()))


class Simulator:
    def __init__(self, pcrs):
        self.lock = threading.Lock()
        self.authority = forge.Authority(int(time.time() * 1000))
        self.pcrs, self.backdate_ms, self.mode = pcrs, 0, "normal"
        self.documents = self.requests = 0

    def answer(self, request):
        """The CBOR answer to one request, or None to close without one."""
        with self.lock:
            self.requests += 1
            mode, pcrs, backdate = self.mode, dict(self.pcrs), self.backdate_ms
        if mode == "silent":
            return None
        if mode == "error":
            return encode({"Error": "InternalError"})
        try:
            message, _ = decode(request)
            attestation = message["Attestation"]
        except Exception:
            return encode({"Error": "InvalidOperation"})
        now = int(time.time() * 1000)
        with self.lock:
            # AWS leaves live about 3 hours: a new one before this one runs out.
            if forge.when(now + 600_000) > self.authority.leaf.not_valid_after:
                self.authority.leaf_key, self.authority.leaf = self.authority.make_leaf(now)
            document = forge.document(self.authority, now - backdate, pcrs, public_key=attestation.get("public_key"),
                                      user_data=attestation.get("user_data"), nonce=attestation.get("nonce"),
                                      indefinite=True)  # as current NSMs write the payload map
            self.documents += 1
        return encode({"Attestation": {"document": document}})


def serve_connection(simulator, connection):
    with connection:
        while True:
            head = connection.recv(4, socket.MSG_WAITALL)
            if len(head) < 4:
                return
            (length,) = struct.unpack(">I", head)
            request = connection.recv(length, socket.MSG_WAITALL) if length else b""
            answer = simulator.answer(request)
            if answer is None:
                return
            connection.sendall(struct.pack(">I", len(answer)) + answer)


def control_handler(simulator):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/stats":
                with simulator.lock:
                    return self.reply(200, f'{{"documents": {simulator.documents}, "requests": {simulator.requests}}}')
            self.reply(404, "{}")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode().strip()
            with simulator.lock:
                if self.path == "/pcrs":
                    simulator.pcrs = parse_pcrs(body)
                elif self.path == "/backdate":
                    simulator.backdate_ms = int(body)
                elif self.path == "/mode" and body in ("normal", "error", "silent"):
                    simulator.mode = body
                else:
                    return self.reply(400, "{}")
            self.reply(200, "{}")

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--root-out", required=True)
    parser.add_argument("--pcrs", default=None)
    parser.add_argument("--lifeline", action="store_true")
    args = parser.parse_args()
    simulator = Simulator(parse_pcrs(args.pcrs) if args.pcrs else dict(DEFAULT_PCRS))
    with open(args.root_out, "wb") as out:
        out.write(forge.pem(simulator.authority.root))
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(args.socket)
    os.chmod(args.socket, 0o600)
    listener.listen(64)
    control = ThreadingHTTPServer(("127.0.0.1", 0), control_handler(simulator))
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print(f"CONTROL {control.server_address[1]}", flush=True)
    print(f"ROOT {os.path.abspath(args.root_out)}", flush=True)
    print(f"PCRS {policy(simulator.pcrs)}", flush=True)
    if args.lifeline:
        def exit_with_parent():
            sys.stdin.buffer.read()
            os._exit(0)
        threading.Thread(target=exit_with_parent, daemon=True).start()
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve_connection, args=(simulator, connection), daemon=True).start()


if __name__ == "__main__":
    main()
