"""Live: attested TLS (docs/contract.md §2b) against a real enclave-runtime with
ENCLAVE_RUNTIME_TLS=attested, through the Python client (OpenSSL: the certificate's document is
verified after the handshake, before anything is sent), Python's ssl module and `cryptography`."""
import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pytest
from conftest import ROOT
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, str(ROOT / "scripts" / "lib"))
from enclave_stack import NSMRuntime, Stack  # noqa: E402

import enclave_core as ec

OID = "2.25.267775713998348542974421145614813140568"
ATTESTED = {"ENCLAVE_RUNTIME_TLS": "attested"}


def unverified(maximum=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if maximum:
        context.maximum_version = maximum
    return context


def peer(base):
    """The DER certificate and the document the same connection serves."""
    host, port = base.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with unverified().wrap_socket(raw) as tls:
            assert tls.version() == "TLSv1.3"
            der = tls.getpeercert(binary_form=True)
            tls.sendall(b"GET /v1/attestation/document HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    return der, answer.split(b"\r\n\r\n", 1)[1]


@pytest.fixture(scope="module")
def stack():
    s = Stack(environment=ATTESTED).start()
    yield s
    s.stop()


def test_the_certificate_carries_the_served_document_and_the_evidence_key(stack):
    der, served = peer(stack.base)
    cert = x509.load_der_x509_certificate(der)
    (extension,) = cert.extensions
    assert extension.oid.dotted_string == OID and not extension.critical
    assert extension.value.value == served, "exactly the bytes GET /v1/attestation/document serves"
    key = cert.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert base64.b64decode(json.loads(served)["public_key"]) == key
    Ed25519PublicKey.from_public_bytes(key).verify(cert.signature, cert.tbs_certificate_bytes)


def test_rpcs_through_the_attested_client_judge_answers_by_the_channel_key(stack):
    client = stack.client
    identity = client.ping()  # the binding verified with the channel's key
    assert identity["runtime"] == "nitro" and client.channel_key is not None
    _, connector = stack.register_connector()
    assert client.exchange("6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11", connector)["access_token"]
    # A pinned key that is not the channel's: the ping's binding does not verify.
    with pytest.raises(ec.EnclaveError) as refused:
        client.ping(binding_key=bytes(32))
    assert refused.value.code == "answer_not_authenticated"


def test_tls_12_and_plain_http_are_refused(stack):
    host, port = stack.base.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            unverified(ssl.TLSVersion.TLSv1_2).wrap_socket(raw)
    with pytest.raises(OSError):  # the server reads a TLS record, gets none, closes
        urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=5).read()


def test_a_document_the_policy_refuses_closes_the_channel_before_anything_is_sent(stack):
    client = ec.EnclaveClient(stack.base, stack.secret, attested=ec.dev_shim_channel(allowed_measurements=("other",)))
    with pytest.raises(ec.EnclaveError) as refused:
        client.ping()
    assert refused.value.code == "channel_not_attested"


class OrdinaryTLSServer:
    """A TLS server with an ordinary self-signed Ed25519 certificate (no document) that records what
    its one client sends: `received` is [b""] when the client sent nothing."""

    def __enter__(self):
        self.directory = tempfile.TemporaryDirectory()
        d = self.directory.name
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", f"{d}/k", "-out", f"{d}/c",
                        "-subj", "/CN=relay", "-days", "1"], capture_output=True, check=True)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(f"{d}/c", f"{d}/k")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.received = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        return self

    def serve(self):
        raw, _ = self.listener.accept()
        try:
            with self.context.wrap_socket(raw, server_side=True) as tls:
                tls.settimeout(3)
                self.received.append(tls.recv(65536))
        except (OSError, ssl.SSLError):
            self.received.append(b"")

    def __exit__(self, *exc):
        self.thread.join(5)
        self.listener.close()
        self.directory.cleanup()


def test_a_tls_server_with_an_ordinary_certificate_gets_no_byte():
    with OrdinaryTLSServer() as server:
        client = ec.EnclaveClient(server.base, "s" * 32, attested=ec.dev_shim_channel())
        with pytest.raises(ec.EnclaveError) as refused:
            client.ping()
        assert refused.value.code == "channel_not_attested"
    assert server.received == [b""], "the relay read nothing: the request was never sent"


def test_nsm_each_new_connection_gets_the_newest_document_verified_under_the_simulator_root():
    nsm = NSMRuntime(extra={"TEE_ATTESTATION_MAX_AGE_SECONDS": "2", "ENCLAVE_RUNTIME_TLS": "attested"}).start()
    base, pcrs = nsm.base, nsm.pcrs
    try:
        root = nsm.root_der
        client = ec.EnclaveClient(base, "local-dev-enclave-rpc-secret", attested=ec.nitro_channel(root, pcrs, 10_000))
        assert client.ping()["runtime"] == "nitro"
        first, _ = peer(base)
        time.sleep(1.6)  # past the refresh interval (half the maximum age)
        second, served = peer(base)
        doc_of = lambda der: x509.load_der_x509_certificate(der).extensions[0].value.value  # noqa: E731
        assert doc_of(first) != doc_of(second) and doc_of(second) == served
        assert client.ping()["runtime"] == "nitro"
        # Another PCR policy: the channel is refused.
        other = ec.EnclaveClient(base, "local-dev-enclave-rpc-secret", attested=ec.nitro_channel(root, "0=" + "00" * 48))
        with pytest.raises(ec.EnclaveError) as refused:
            other.ping()
        assert refused.value.code == "channel_not_attested"
    finally:
        nsm.stop()



ENCLAVE_RPC = ROOT / "build" / "c" / "enclave-rpc-asan"


def enclave_rpc(base, *args, pin=None):
    env = {**os.environ, "ENCLAVE_RUNTIME_TLS": "attested", "ENCLAVE_RUNTIME_BASE_URL": base,
           "ENCLAVE_RPC_SHARED_SECRET": "stack-shared-secret-0123456789abcdef"}
    env.pop("TEE_ATTESTATION_PUBLIC_KEY", None)
    if pin:
        env["TEE_ATTESTATION_PUBLIC_KEY"] = pin
    return subprocess.run([str(ENCLAVE_RPC), *args], capture_output=True, text=True, env=env, timeout=30)


def test_the_c_client_verifies_the_channel_in_the_handshake(stack):
    ping = enclave_rpc(stack.base, "ping")
    assert ping.returncode == 0, ping.stderr
    assert json.loads(ping.stdout)["attested_identity"]["runtime"] == "nitro"
    challenge = enclave_rpc(stack.base, "challenge")
    assert challenge.returncode == 0 and challenge.stdout.startswith("verified"), challenge.stderr
    # The document's own key pinned: accepted; another key pinned: refused before anything is sent.
    _, served = peer(stack.base)
    own = json.loads(served)["public_key"]
    assert enclave_rpc(stack.base, "ping", pin=own).returncode == 0
    refused = enclave_rpc(stack.base, "ping", pin=base64.b64encode(bytes(32)).decode())
    assert refused.returncode == 1 and refused.stderr.strip().endswith("channel_not_attested"), refused.stderr


def test_the_c_client_sends_nothing_to_an_ordinary_tls_server():
    with OrdinaryTLSServer() as server:
        result = enclave_rpc(server.base, "ping")
    assert result.returncode == 1 and "channel_not_attested" in result.stderr, result.stderr
    assert server.received == [b""]


RUST_PING = ROOT / "build" / "rust" / "debug" / "examples" / "ping"  # scripts/test.sh builds the examples first


def rust_ping(base, pin=None):
    env = {**os.environ, "ENCLAVE_RUNTIME_TLS": "attested", "ENCLAVE_RPC_SHARED_SECRET": "stack-shared-secret-0123456789abcdef"}
    env.pop("TEE_ATTESTATION_PUBLIC_KEY", None)
    if pin:
        env["TEE_ATTESTATION_PUBLIC_KEY"] = pin
    return subprocess.run([str(RUST_PING), base.removeprefix("https://")], capture_output=True, text=True, env=env, timeout=30)


def test_the_rust_example_verifies_the_channel_before_sending(stack):
    ping = rust_ping(stack.base)
    assert ping.returncode == 0, ping.stderr
    assert json.loads(ping.stdout)["attested_identity"]["runtime"] == "nitro"
    _, served = peer(stack.base)
    assert rust_ping(stack.base, pin=json.loads(served)["public_key"]).returncode == 0
    refused = rust_ping(stack.base, pin=base64.b64encode(bytes(32)).decode())
    assert refused.returncode == 1 and refused.stderr.strip() == "channel_not_attested", refused.stderr
    with OrdinaryTLSServer() as server:
        result = rust_ping(server.base)
    assert result.returncode == 1 and result.stderr.strip() == "channel_not_attested", result.stderr
    assert server.received == [b""]
