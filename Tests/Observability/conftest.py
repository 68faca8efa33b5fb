"""The whole system with its metrics listeners and audit file, as real processes: the runtime
(debug build, loopback OAuth provider), a relay in front of it for the api (so a test can make
answers unauthenticated), the api and the worker; and a real Prometheus server scraping all three."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
from enclave_stack import Stack, free_port, start_fixture, start_host  # noqa: E402

CATALOG = ROOT / "Sources" / "EnclaveMetrics" / "MetricCatalog.swift"
API_TOKEN = "observability-api-token"


def http(method, url, body=None, headers=None, timeout=10):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(predicate, seconds=30, what="condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class System:
    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.audit_path = self.directory / "audit.jsonl"
        self.metrics = {name: free_port() for name in ("enclave-runtime", "api", "worker")}
        self.processes = []

    def start(self):
        self.stack = Stack("debug", log_path=self.directory / "runtime.log", environment={
            "ENCLAVE_METRICS_BIND_ADDR": f"127.0.0.1:{self.metrics['enclave-runtime']}",
            "ENCLAVE_AUDIT_LOG": str(self.audit_path), "ENCLAVE_PROVIDER_TIMEOUT_MS": "500",
        }).start()
        env = {**os.environ, "ENCLAVE_CORE_LIB": str(ROOT / "build" / "c" / "libenclave_core.so.1"),
               "PYTHONPATH": str(ROOT / "bindings" / "python")}
        self.relay, self.relay_base = start_fixture("relay_enclave.py", self.stack.base, "forward", env=env)
        self.api_port = free_port()
        self.api = self.host("api", self.relay_base, {"API_BIND_ADDR": f"127.0.0.1:{self.api_port}",
                                                      "API_METRICS_BIND_ADDR": f"127.0.0.1:{self.metrics['api']}"})
        self.worker = self.host("worker", self.stack.base, {"WORKER_METRICS_BIND_ADDR": f"127.0.0.1:{self.metrics['worker']}",
                                                             "WORKER_TICK_SECONDS": "1"})
        self.api_base = f"http://127.0.0.1:{self.api_port}"
        wait_for(lambda: http("GET", self.api_base + "/healthz")[0] == 200, what="the api")
        for name in self.metrics:
            wait_for(lambda: http("GET", self.metrics_url(name))[0] == 200, what=f"{name}'s metrics listener")
        return self

    def host(self, role, base, extra):
        process = start_host(role, base, self.stack.secret, self.directory, {"API_INTERNAL_TOKEN": API_TOKEN, **extra})
        self.processes.append(process)
        return process

    def metrics_url(self, name):
        return f"http://127.0.0.1:{self.metrics[name]}/metrics"

    def scrape(self, name):
        status, body = http("GET", self.metrics_url(name))
        assert status == 200
        return body.decode()

    def log(self, name):
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def api_call(self, method, path, body=None):
        headers = {"authorization": f"Bearer {API_TOKEN}", "content-type": "application/json"}
        status, raw = http(method, self.api_base + path, json.dumps(body).encode() if body is not None else None, headers)
        return status, json.loads(raw or b"{}")

    def set_relay(self, mode):
        assert http("POST", self.relay_base + "/__mode", mode.encode())[0] == 200

    def set_fault(self, mode):
        assert http("POST", self.stack.provider_base + "/__fault", f"mode={mode}".encode(),
                    {"content-type": "application/x-www-form-urlencoded"})[0] == 200

    def issue_code(self, user):
        body = urllib.parse.urlencode({"user": user, "redirect_uri": "https://app.example/oauth/callback"}).encode()
        return json.loads(http("POST", self.stack.provider_base + "/__code", body)[1])["code"]

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.relay.stdin.close()
        self.relay.wait(timeout=5)
        self.stack.stop()


@pytest.fixture(scope="session")
def system():
    directory = tempfile.mkdtemp(prefix="enclave-observability-")
    running = System(directory).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def prometheus(system):
    """A real Prometheus (Debian's package) scraping the three listeners every second, with the
    alert rules loaded; its HTTP API at `.base`."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed (scripts/bootstrap.sh installs it)"
    directory = pathlib.Path(tempfile.mkdtemp(prefix="enclave-prometheus-"))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ROOT / "docs" / "observability" / "alerts.yml")],
        "scrape_configs": [{"job_name": name, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                           for name, port in system.metrics.items()],
    }
    (directory / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    log = open(directory / "prometheus.log", "wb")
    process = subprocess.Popen([binary, f"--config.file={directory / 'prometheus.yml'}", f"--storage.tsdb.path={directory / 'data'}",
                                f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)

    class Server:
        base = f"http://127.0.0.1:{port}"

        def query(self, expression):
            status, raw = http("GET", self.base + "/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
            return status, json.loads(raw)

    server = Server()
    try:
        wait_for(lambda: http("GET", server.base + "/-/ready")[0] == 200, what="prometheus")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(directory, ignore_errors=True)


def catalog():
    """Every family name the processes may export (Sources/EnclaveMetrics/MetricCatalog.swift)."""
    import re
    return set(re.findall(r'case \w+ = "(enclave_[a-z_]+)"', CATALOG.read_text()))
