#!/usr/bin/python3
"""A TCP relay that records every byte it carries, both ways, to a file: the parent instance's view
of the runtime's egress (issue 33 §2). It stands in front of the CONNECT proxy, so the test can
read exactly what crossed the parent and prove no secret did in the clear.

usage: recording_relay.py TARGET_PORT RECORD_FILE   (target on 127.0.0.1)
Prints "PORT <n>" once listening; exits when its stdin closes."""
import os
import socket
import sys
import threading

TARGET, RECORD = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()


def pump(source, sink):
    try:
        while data := source.recv(65536):
            with lock, open(RECORD, "ab") as record:
                record.write(data)
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", TARGET))
        except OSError:
            client.close()
            continue
        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()


def exit_with_parent():
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
serve()
