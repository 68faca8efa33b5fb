"""Metrics, scraped from the real processes and read with prometheus-client's parser: every
counter moves as requests of each kind are made; names follow Prometheus conventions; no label
carries an id. Then a real Prometheus server scrapes the three listeners, the alert rules load,
and every dashboard query runs; and after the whole flow no secret is in any output."""
import base64
import json
import pathlib
import re
import time
import uuid

from prometheus_client.parser import text_string_to_metric_families

from conftest import ROOT, catalog, http, wait_for

USER = "6f1c1f2e-8f55-4d0e-9a53-1e5f0a9b7c11"
REDIRECT = "https://app.example/oauth/callback"
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
SEEN_SECRETS = set()  # tokens, codes and nonces this module handled, for the secret scan


def samples(text):
    """{(sample name, frozenset(labels)): value} of a scrape, through the real parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scrape, name, **labels):
    return scrape.get((name, frozenset(labels.items())), 0.0)


def signed(system, path, body, **overrides):
    """A signed request's status and body, with header overrides (None removes a header)."""
    headers = system.stack.client.signed_headers(path, body, ts=overrides.pop("ts", None), nonce=overrides.pop("nonce", None))
    SEEN_SECRETS.add(headers["x-alfred-rpc-nonce"])
    for name, replacement in overrides.items():
        name = name.replace("_", "-")
        if replacement is None:
            headers.pop(name)
        else:
            headers[name] = replacement
    return http("POST", system.stack.base + path, body, headers), headers


def ping_body():
    return json.dumps({"contract_version": "v1", "request_id": str(uuid.uuid4())}).encode()


def test_runtime_counters_move_for_each_refusal_and_provider_outcome(system):
    before = samples(system.scrape("enclave-runtime"))
    ping = "/v1/rpc/ping"
    # One of each authentication refusal (docs/contract.md §2, steps 1 to 6).
    assert signed(system, ping, ping_body(), x_alfred_rpc_version=None)[0][0] == 401
    assert signed(system, ping, ping_body(), x_alfred_rpc_version="v2")[0][0] == 400
    assert signed(system, ping, ping_body(), nonce="has space")[0][0] == 401
    assert signed(system, ping, b"{" + b" " * 70000 + b"}")[0][0] == 413
    assert signed(system, ping, ping_body(), ts=str(int(time.time()) - 3600))[0][0] == 401
    assert signed(system, ping, ping_body(), x_alfred_rpc_signature="0" * 64)[0][0] == 401
    body = ping_body()
    (status, _), headers = signed(system, ping, body)
    assert status == 200
    assert http("POST", system.stack.base + ping, body, headers)[0] == 401  # the same request again
    # Step 7, the body: counted by code as well (issue 31); a request id over 128 bytes is refused.
    assert signed(system, ping, b"[]")[0][0] == 400
    assert signed(system, ping, json.dumps({"contract_version": "v2", "request_id": "r"}).encode())[0][0] == 400
    assert signed(system, ping, json.dumps({"contract_version": "v1", "request_id": "r" * 129}).encode())[0][0] == 400
    assert signed(system, ping, json.dumps({"contract_version": "v1", "request_id": "r" * 128}).encode())[0][0] == 200
    # One of each provider outcome, through exchange; the success last, as its access token is then
    # kept in memory and the next exchange is a hit (docs/contract.md §7a).
    user, connector = system.stack.register_connector()
    for fault, outcome in [("invalid_grant", "provider_failed"), ("hang", "provider_unavailable"),
                           ("not_json", "provider_response_invalid"), ("none", "ok"), ("none", "hit")]:
        system.set_fault(fault)
        try:
            answer = system.stack.client.exchange(user, connector)
            SEEN_SECRETS.add(answer["access_token"])
            assert outcome in ("ok", "hit")
        except Exception as error:  # EnclaveError: the code is the outcome
            assert getattr(error, "code", None) == outcome, error
    system.set_fault("none")
    # Challenges: one answered, one refused.
    system.stack.client.verified_challenge(allow_insecure_dev=True)
    assert http("POST", system.stack.base + "/v1/attestation/challenge", b"not json", {"content-type": "application/json"})[0] == 400

    after = samples(system.scrape("enclave-runtime"))
    moved = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
    for code in ["missing_request_header", "invalid_request_header", "payload_too_large", "invalid_request_timestamp",
                 "invalid_request_signature", "request_replay_detected", "invalid_request_payload", "invalid_request_id"]:
        assert moved("enclave_auth_refusals_total", code=code) == 1, code
    assert moved("enclave_auth_refusals_total", code="invalid_contract_version") == 2  # the header's and the body's
    assert moved("enclave_requests_total", route=ping, status="200") == 2
    assert moved("enclave_requests_total", route=ping, status="400") == 4
    assert moved("enclave_requests_total", route=ping, status="401") == 5
    for outcome in ["ok", "provider_failed", "provider_unavailable", "provider_response_invalid"]:
        assert moved("enclave_provider_request_duration_seconds_count", operation="refresh_token", outcome=outcome) == 1, outcome
    assert moved("enclave_provider_request_duration_seconds_count", operation="authorization_code", outcome="ok") == 1
    assert moved("enclave_store_operations_total", operation="insert", outcome="ok") == 1
    assert moved("enclave_store_operations_total", operation="find", outcome="ok") == 5
    assert moved("enclave_access_token_lookups_total", outcome="miss") == 4  # three failures, kept for nobody
    assert moved("enclave_access_token_lookups_total", outcome="hit") == 1
    assert moved("enclave_access_token_lookups_total", outcome="shared") == 0
    assert value(after, "enclave_access_token_cache_entries") >= 1
    assert value(after, "enclave_access_token_evictions_total") == 0
    assert moved("enclave_challenges_total", outcome="answered") == 1
    assert moved("enclave_challenges_total", outcome="refused") == 1
    assert value(after, "enclave_replay_cache_capacity") == 1_000_000
    assert value(after, "enclave_replay_cache_entries") >= 7
    build = [labels for (name, labels) in after if name == "enclave_build_info"]
    assert len(build) == 1 and dict(build[0])["store"] == "sqlite" and dict(build[0])["attestation_source"] == "dev-shim"


def test_host_metrics_probe_calls_jobs_and_unauthenticated_answers(system):
    code = system.issue_code(USER)
    SEEN_SECRETS.add(code)
    status, registered = system.api_call("POST", "/v1/connectors/google",
                                         {"user_id": USER, "authorization_code": code, "redirect_uri": REDIRECT})
    assert status == 200, registered
    SEEN_SECRETS.add(registered["access_token"])
    connector = registered["connector_id"]
    status, token = system.api_call("POST", f"/v1/connectors/google/{connector}/access-token", {"user_id": USER})
    assert status == 200
    SEEN_SECRETS.add(token["access_token"])
    # An answer altered on its way: the api refuses it as not the enclave's.
    system.set_relay("alter_header")
    try:
        assert system.api_call("POST", f"/v1/connectors/google/{connector}/access-token", {"user_id": USER})[0] == 502
    finally:
        system.set_relay("forward")
    status, job = system.api_call("DELETE", f"/v1/connectors/google/{connector}?user_id={USER}")
    assert status == 202
    wait_for(lambda: system.api_call("GET", f"/v1/jobs/{job['job_id']}")[1].get("state") == "succeeded", what="the revoke job")

    api = samples(system.scrape("api"))
    assert value(api, "enclave_host_probes_total", outcome="verified") == 1
    assert value(api, "enclave_host_enclave_call_duration_seconds_count", operation="register", outcome="ok") == 1
    assert value(api, "enclave_host_enclave_call_duration_seconds_count", operation="exchange", outcome="ok") == 1
    assert value(api, "enclave_host_enclave_call_duration_seconds_count", operation="exchange", outcome="answer_not_authenticated") == 1
    assert value(api, "enclave_host_unauthenticated_answers_total", operation="exchange") == 1
    assert value(api, "enclave_host_requests_total", route="/v1/connectors/google/{connector_id}/access-token", status="502") == 1
    assert value(api, "enclave_host_requests_total", route="/v1/connectors/google/{connector_id}", status="202") == 1
    wait_for(lambda: value(samples(system.scrape("worker")), "enclave_host_jobs", state="succeeded") >= 1, what="jobs by state")
    worker = samples(system.scrape("worker"))
    assert value(worker, "enclave_host_probes_total", outcome="verified") == 1
    assert value(worker, "enclave_host_reverifications_total", outcome="verified") >= 1
    assert value(worker, "enclave_host_job_attempts_total", outcome="succeeded") >= 1
    assert value(worker, "enclave_host_enclave_call_duration_seconds_count", operation="revoke", outcome="ok") >= 1
    assert value(worker, "enclave_host_jobs", state="pending") == 0


def test_names_follow_prometheus_conventions_and_no_label_is_an_id(system):
    known = catalog()
    for name in system.metrics:
        text = system.scrape(name)
        for family in text_string_to_metric_families(text):
            assert family.documentation, f"{family.name} has no HELP"
            base = family.name + ("_total" if family.type == "counter" else "")
            assert base in known, f"{base} is not in the catalog"
            assert base.startswith("enclave_")
            if family.type == "histogram":
                assert base.endswith("_seconds"), base
            for sample in family.samples:
                if family.type == "counter":
                    assert sample.name.endswith("_total") or sample.name.endswith("_created"), sample.name
                for label, text_value in sample.labels.items():
                    assert not UUID_PATTERN.search(text_value), f"{sample.name}{{{label}}} carries an id"
                    assert len(text_value) < 80


def test_a_real_prometheus_scrapes_all_three_and_loads_the_rules(system, prometheus):
    def all_up():
        status, answer = prometheus.query("up")
        results = answer["data"]["result"]
        return status == 200 and len(results) == 3 and all(result["value"][1] == "1" for result in results)
    wait_for(all_up, what="every target scraped and up")
    for expression, job in [("enclave_build_info", "enclave-runtime"), ('enclave_host_probes_total{outcome="verified"}', "api"),
                            ('enclave_host_probes_total{outcome="verified"}', "worker")]:
        status, answer = prometheus.query(f'{expression}{{job="{job}"}}' if "{" not in expression else
                                          expression.replace("}", f',job="{job}"}}'))
        assert status == 200 and answer["data"]["result"], (expression, job, answer)
        assert float(answer["data"]["result"][0]["value"][1]) >= 1
    # The value read back through Prometheus is what the runtime exports.
    wait_for(lambda: prometheus.query('sum(enclave_requests_total{job="enclave-runtime"})')[1]["data"]["result"], what="requests")
    status, rules = http("GET", prometheus.base + "/api/v1/rules")
    groups = json.loads(rules)["data"]["groups"]
    assert {group["name"] for group in groups} == {"enclave-runtime", "enclave-hosts"}
    wait_for(lambda: all(rule["health"] == "ok" for group in json.loads(http("GET", prometheus.base + "/api/v1/rules")[1])["data"]["groups"]
                         for rule in group["rules"]), what="every rule evaluated without error")
    # The dashboard's every query runs, on families of the catalog only.
    dashboard = json.loads((ROOT / "docs" / "observability" / "dashboard.json").read_text())
    known = catalog()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            status, answer = prometheus.query(target["expr"])
            assert status == 200 and answer["status"] == "success", (panel["title"], answer)
            for name in re.findall(r"enclave_[a-z_]+", target["expr"]):
                assert re.sub(r"_(bucket|count|sum)$", "", name) in known, name


def test_promtool_accepts_the_alert_rules():
    import subprocess
    result = subprocess.run(["promtool", "check", "rules", str(ROOT / "docs" / "observability" / "alerts.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_no_secret_token_or_nonce_in_metrics_or_audit_after_the_whole_flow(system):
    status, stats = http("GET", system.stack.provider_base + "/__stats")
    refresh_tokens = json.loads(stats)["refresh_tokens"]
    assert refresh_tokens, "the flow ran"
    data_key = (pathlib.Path(system.stack.state) / "data.key").read_text().strip()
    secrets = SEEN_SECRETS | set(refresh_tokens) | {system.stack.secret, "stack-client-secret-0123456789",
                                                    "observability-api-token", data_key, base64.b64decode(data_key).hex()}
    assert len(SEEN_SECRETS) > 10, "the scans need what the other tests handled"
    outputs = {name: system.scrape(name) for name in system.metrics}
    outputs["audit file"] = system.audit_path.read_text()
    outputs["api audit"] = "\n".join(line for line in system.log("api").splitlines() if '"type":"audit"' in line)
    assert outputs["audit file"].count("\n") > 10 and outputs["api audit"]
    for where, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"a secret is in the {where}"
