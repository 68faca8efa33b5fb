"""The server base every stand-in of the tests shares: an HTTP server on a free loopback port that
prints "PORT <n>" once listening and exits when its stdin closes (the test runner's lifeline pipe:
a runner that dies leaves no server behind). With FIXTURE_TLS_CERT and FIXTURE_TLS_KEY (PEM files)
it serves HTTPS instead (the egress tests' servers behind a CONNECT proxy)."""

import os
import ssl
import sys
import threading
import time
from http.server import ThreadingHTTPServer


def _exit_with_parent():
    sys.stdin.buffer.read()
    os._exit(0)


def serve(handler):
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    if os.environ.get("FIXTURE_TLS_CERT"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.environ["FIXTURE_TLS_CERT"], os.environ["FIXTURE_TLS_KEY"])
        # The handshake runs in each request's thread, so one stalled client holds no one else up.
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    print(f"PORT {httpd.server_address[1]}", flush=True)
    httpd.serve_forever()


def send_body(handler, status, headers, data, drip=False):
    """One answer: the status, `headers` (any content-length among them replaced by the body's),
    then the body, or with `drip` the head at once and the body one byte every 0.7 s."""
    handler.send_response(status)
    for name, value in headers:
        if name.lower() != "content-length":
            handler.send_header(name, value)
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    if not drip:
        handler.wfile.write(data)
        return
    handler.wfile.flush()
    for byte in data:
        time.sleep(0.7)
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
