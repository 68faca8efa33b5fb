"""The Python side's one process harness: a real enclave-runtime process and the loopback OAuth
provider (Tests/Fixtures/oauth_provider.py), started on free ports with a throwaway state
directory (`Stack`), the hosts (`start_host`) and the other stand-ins of Tests/Fixtures
(`start_fixture`). Used by the Python binding's live tests, the contract and observability tests,
and the load, fleet and cache benchmarks. The Swift live tests have the same in
Tests/IntegrationTests/Support/LiveProcesses.swift, on the same fixtures and the same opt-in file."""
import os
import pathlib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bindings" / "python"))
os.environ.setdefault("ENCLAVE_CORE_LIB", str(ROOT / "build" / "c" / "libenclave_core.so.1"))  # make all
import enclave_core  # noqa: E402  (the project's own binding, for the signed register call)



def _local_opt_in():
    lines = (ROOT / "scripts" / "lib" / "local-opt-in.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


# The explicit local opt-in to dev-shim attestation, as every local process of the tests sets it.
LOCAL_OPT_IN = _local_opt_in()
CLIENT_ID, CLIENT_SECRET = "stack-client-id.apps.example", "stack-client-secret-0123456789"
SECRET = "stack-shared-secret-0123456789abcdef"
REDIRECT = "https://app.example/oauth/callback"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The harness's own health check of an attested-TLS runtime: it verifies nothing (the clients under
# test do, docs/contract.md §2b).
_UNVERIFIED = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
_UNVERIFIED.check_hostname, _UNVERIFIED.verify_mode = False, ssl.CERT_NONE


def wait_healthy(base, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"enclave-runtime exited with status {process.returncode}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1, context=_UNVERIFIED if base.startswith("https") else None)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("enclave-runtime did not become healthy")


def start_fixture(script, *arguments, env=None):
    """A stand-in of Tests/Fixtures on a free loopback port: (process, base URL). It exits when its
    stdin closes, so it never outlives this process."""
    process = subprocess.Popen(["/usr/bin/python3", str(ROOT / "Tests" / "Fixtures" / script), *arguments],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = process.stdout.readline().split()
    if len(line) != 2 or line[0] != "PORT":
        raise RuntimeError(f"{script} did not start")
    return process, f"http://127.0.0.1:{line[1]}"


def start_host(role, base, secret, directory, extra, configuration="debug"):
    """The api or the worker against the runtime at `base`, logging to DIRECTORY/ROLE.log, its
    SQLite job store in DIRECTORY/host."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("ENCLAVE_", "TEE_", "GOOGLE_", "API_", "HOST_", "WORKER_", "ALFRED_"))}
    environment.update({
        **LOCAL_OPT_IN, "ENCLAVE_RUNTIME_MODE": "dev-shim", "ENCLAVE_RUNTIME_BASE_URL": base,
        "ENCLAVE_RPC_SHARED_SECRET": secret, "HOST_STATE_DIR": str(pathlib.Path(directory) / "host"), **extra,
    })
    with open(pathlib.Path(directory) / f"{role}.log", "wb") as log:
        return subprocess.Popen([str(ROOT / ".build" / configuration / role)], env=environment, cwd=directory,
                                stdout=log, stderr=log)


class Stack:
    """start() brings up provider and runtime; stop() ends both. `base`, `secret`, `pid`.
    With `shares_provider_of`, the runtime uses that stack's provider (a fleet's replicas share one)."""

    def __init__(self, configuration="debug", product="enclave-runtime", log_path=None, environment=None,
                 shares_provider_of=None, with_provider=True, secret=SECRET):
        self.binary = ROOT / ".build" / configuration / product
        self.log_path = log_path
        self.environment = environment or {}
        self.secret = secret
        self.with_provider = with_provider
        self.provider = self.runtime = None
        self.shares_provider_of = shares_provider_of

    def start(self):
        if not self.binary.exists():
            raise RuntimeError(f"{self.binary} is missing: build it first")
        if self.shares_provider_of:
            self.provider_base = self.shares_provider_of.provider_base
        elif self.with_provider:
            self.provider, self.provider_base = start_fixture("oauth_provider.py", CLIENT_ID, CLIENT_SECRET)
        self.state = tempfile.mkdtemp(prefix="enclave-stack-")
        port = free_port()
        attested = self.environment.get("ENCLAVE_RUNTIME_TLS") == "attested"
        self.base = f"{'https' if attested else 'http'}://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ENCLAVE_", "TEE_", "GOOGLE_", "ALFRED_"))}
        env.update({**LOCAL_OPT_IN, "ENCLAVE_RUNTIME_BIND_ADDR": f"127.0.0.1:{port}", "ENCLAVE_STATE_DIR": self.state,
                    "ENCLAVE_RPC_SHARED_SECRET": self.secret})
        if self.with_provider or self.shares_provider_of:
            env.update({"GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID, "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
                        "GOOGLE_OAUTH_TOKEN_URL": self.provider_base + "/token",
                        "GOOGLE_OAUTH_REVOKE_URL": self.provider_base + "/revoke"})
        env.update(self.environment)
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.runtime = subprocess.Popen([str(self.binary)], env=env, cwd=self.state,
                                        stdout=log, stderr=log)
        if self.log_path:
            log.close()
        wait_healthy(self.base, self.runtime)
        self.pid = self.runtime.pid
        self.client = enclave_core.EnclaveClient(
            self.base, self.secret, attested=enclave_core.dev_shim_channel() if attested else None)
        return self

    def register_connector(self, user_id="6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11"):
        """A connector with a refresh token sealed in the runtime: (user_id, connector_id)."""
        body = f"user={user_id}&redirect_uri={REDIRECT}".encode()
        with urllib.request.urlopen(urllib.request.Request(self.provider_base + "/__code", data=body), timeout=5) as r:
            import json
            code = json.loads(r.read())["code"]
        answer = self.client.register(user_id, code, REDIRECT)
        return answer["connector"]["user_id"], answer["connector"]["connector_id"]

    def stop(self):
        if self.runtime and self.runtime.poll() is None:
            self.runtime.terminate()
            try:
                self.runtime.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.runtime.kill()
                self.runtime.wait()
        if self.provider and self.provider.poll() is None:
            self.provider.stdin.close()
            try:
                self.provider.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.provider.kill()
                self.provider.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class NSMRuntime:
    """An NSM-mode runtime (remote, TEE_ATTESTATION_SOURCE=nsm) on tools/nitro/nsm_sim.py, with
    `extra` settings: start() / stop(); `base`, `pcrs` (TEE_ALLOWED_PCRS syntax), `root_der`."""

    def __init__(self, configuration="debug", extra=None):
        self.binary = ROOT / ".build" / configuration / "enclave-runtime"
        self.extra = extra or {}

    def start(self):
        import base64
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="enclave-nsm-"))
        self.simulator = subprocess.Popen(
            ["/usr/bin/python3", str(ROOT / "tools" / "nitro" / "nsm_sim.py"), "--socket", str(self.directory / "nsm.sock"),
             "--root-out", str(self.directory / "root.pem"), "--lifeline"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        lines = {}
        while len(lines) < 3:
            key, value = self.simulator.stdout.readline().split(" ", 1)
            lines[key] = value.strip()
        self.pcrs = lines["PCRS"]
        pem = open(lines["ROOT"]).read()
        self.root_der = base64.b64decode("".join(line for line in pem.splitlines() if not line.startswith("-----")))
        port = free_port()
        attested = self.extra.get("ENCLAVE_RUNTIME_TLS") == "attested"
        self.base = f"{'https' if attested else 'http'}://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ENCLAVE_", "TEE_", "GOOGLE_", "ALFRED_"))}
        env.update({**LOCAL_OPT_IN, "ENCLAVE_RUNTIME_MODE": "remote", "TEE_ATTESTATION_REQUIRED": "true",
                    "TEE_ALLOW_INSECURE_DEV_ATTESTATION": "false", "TEE_ATTESTATION_SOURCE": "nsm",
                    "ENCLAVE_NSM_DEVICE": f"unix:{self.directory}/nsm.sock",
                    "TEE_ALLOWED_MEASUREMENTS": self.pcrs.split(",")[0].split("=")[1],
                    "ENCLAVE_DATA_KEY": base64.b64encode(bytes(32)).decode(), "GOOGLE_OAUTH_CLIENT_ID": "c",
                    "GOOGLE_OAUTH_CLIENT_SECRET": "s", "ENCLAVE_STATE_DIR": str(self.directory / "state"),
                    "ENCLAVE_RUNTIME_BIND_ADDR": f"127.0.0.1:{port}", **self.extra})
        self.runtime = subprocess.Popen([str(self.binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        cwd=self.directory)
        wait_healthy(self.base, self.runtime)
        return self

    def stop(self):
        self.runtime.terminate()
        self.runtime.wait(10)
        self.simulator.stdin.close()
        self.simulator.wait(5)
