#!/usr/bin/env python3
"""Writes dashboard.json, the Grafana dashboard (importable: Dashboards > Import, pick a Prometheus
data source). Run it after changing a panel; the tests check every query against a real Prometheus."""
import json
import pathlib

PANELS = [
    ("Signed RPCs by route and status", 'sum by (route, status) (rate(enclave_requests_total{route=~"/v1/rpc/.*"}[5m]))', "reqps"),
    ("Authentication refusals by code", "sum by (code) (rate(enclave_auth_refusals_total[5m]))", "reqps"),
    ("Replay cache fill", "enclave_replay_cache_entries / enclave_replay_cache_capacity", "percentunit"),
    ("Provider call p99 by operation",
     "histogram_quantile(0.99, sum by (operation, le) (rate(enclave_provider_request_duration_seconds_bucket[5m])))", "s"),
    ("Provider calls by outcome", "sum by (operation, outcome) (rate(enclave_provider_request_duration_seconds_count[5m]))", "reqps"),
    ("Access tokens by source (hit: memory, miss: provider, shared: waited on a call)",
     "sum by (outcome) (rate(enclave_access_token_lookups_total[5m]))", "reqps"),
    ("Access tokens held and evicted",
     "sum by (instance) (enclave_access_token_cache_entries) or sum by (instance) (increase(enclave_access_token_evictions_total[5m]))",
     "short"),
    ("Connector store operations by outcome", "sum by (operation, outcome) (rate(enclave_store_operations_total[5m]))", "ops"),
    ("Attestation challenges by outcome", "sum by (outcome) (rate(enclave_challenges_total[5m]))", "reqps"),
    ("Nitro document age", "max by (instance) (enclave_nitro_document_age_seconds)", "s"),
    ("Audit write failures", "sum by (instance) (increase(enclave_audit_write_failures_total[5m]))", "short"),
    ("api requests by route and status", "sum by (route, status) (rate(enclave_host_requests_total[5m]))", "reqps"),
    ("Enclave call p99 from the hosts",
     "histogram_quantile(0.99, sum by (job, operation, le) (rate(enclave_host_enclave_call_duration_seconds_bucket[5m])))", "s"),
    ("Enclave calls by outcome", "sum by (job, operation, outcome) (rate(enclave_host_enclave_call_duration_seconds_count[5m]))", "reqps"),
    ("Answers refused as not authenticated", "sum by (job, operation) (increase(enclave_host_unauthenticated_answers_total[5m]))", "short"),
    ("Probes and re-verifications by outcome",
     "sum by (job, outcome) (increase(enclave_host_probes_total[1h])) or sum by (job, outcome) (increase(enclave_host_reverifications_total[5m]))",
     "short"),
    ("Revoke jobs by state", "max by (state) (enclave_host_jobs)", "short"),
    ("Revoke job attempts by outcome", "sum by (outcome) (rate(enclave_host_job_attempts_total[5m]))", "ops"),
    ("What runs", "max by (instance, version, core_version, attestation_source, store) (enclave_build_info)", "short"),
]


def panel(index, title, expr, unit):
    return {
        "id": index + 1, "type": "timeseries", "title": title,
        "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": "A", "expr": expr, "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}}],
    }


dashboard = {
    "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus",
                  "pluginName": "Prometheus"}],
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
                   {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""}],
    "title": "Enclave runtime", "uid": "enclave-runtime", "schemaVersion": 38, "version": 1, "editable": True,
    "tags": ["enclave"], "time": {"from": "now-6h", "to": "now"}, "refresh": "30s",
    "panels": [panel(i, *p) for i, p in enumerate(PANELS)],
}
path = pathlib.Path(__file__).with_name("dashboard.json")
path.write_text(json.dumps(dashboard, indent=2) + "\n")
print(f"wrote {path}")
