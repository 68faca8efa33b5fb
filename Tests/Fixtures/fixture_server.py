"""The server base every stand-in of the tests shares: an HTTP server on a free loopback port that
prints "PORT <n>" once listening and exits when its stdin closes (the test runner's lifeline pipe:
a runner that dies leaves no server behind)."""

import os
import sys
import threading
from http.server import ThreadingHTTPServer


def _exit_with_parent():
    sys.stdin.buffer.read()
    os._exit(0)


def serve(handler):
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    print(f"PORT {httpd.server_address[1]}", flush=True)
    httpd.serve_forever()
