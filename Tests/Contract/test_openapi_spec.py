"""docs/openapi.yaml is a valid OpenAPI 3.1 document and names every endpoint of the contract."""
import yaml
from conftest import SPEC
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

CONTRACT_ENDPOINTS = {
    ("get", "/healthz"), ("get", "/v1/attestation/document"), ("post", "/v1/attestation/challenge"),
    ("post", "/v1/rpc/google/token/exchange"), ("post", "/v1/rpc/google/token/revoke"),
    ("post", "/v1/rpc/google/connector/register"), ("post", "/v1/rpc/ping"),
}
ERROR_CODES = {
    "missing_request_header", "invalid_request_header", "invalid_request_timestamp", "invalid_request_signature",
    "request_replay_detected", "invalid_contract_version", "invalid_request_payload", "invalid_request_id",
    "payload_too_large", "replay_cache_full", "not_found", "method_not_allowed", "connector_token_unavailable",
    "decrypt_not_authorized", "connector_token_decrypt_failed", "provider_not_configured", "provider_unavailable",
    "provider_failed", "provider_response_invalid", "store_unavailable", "rpc_internal_error",
}
# The Python client's method for each signed RPC of the spec (a new RPC needs one).
CLIENT_METHODS = {"ping": "ping", "exchangeToken": "exchange", "revokeToken": "revoke", "registerConnector": "register"}


def test_spec_is_valid_openapi_3_1():
    document, _ = read_from_filename(str(SPEC))
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on any violation


def test_spec_covers_the_contract():
    document = yaml.safe_load(SPEC.read_text())
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations == CONTRACT_ENDPOINTS
    codes = set(document["components"]["schemas"]["ErrorEnvelope"]["properties"]["error"]["properties"]["code"]["enum"])
    assert codes == ERROR_CODES
    for method, path in CONTRACT_ENDPOINTS:
        if path.startswith("/v1/rpc/"):
            names = {p["$ref"].rsplit("/", 1)[1] for p in document["paths"][path][method]["parameters"]}
            assert names == {"Version", "Timestamp", "Nonce", "Signature"}, path

    assert set(document["x-error-codes"]) == ERROR_CODES


def test_the_python_client_calls_every_signed_rpc():
    import enclave_core
    document = yaml.safe_load(SPEC.read_text())
    rpc_operations = {item[method]["operationId"] for path, item in document["paths"].items() for method in item
                      if path.startswith("/v1/rpc/")}
    assert rpc_operations == set(CLIENT_METHODS)
    for operation, method in CLIENT_METHODS.items():
        assert callable(getattr(enclave_core.EnclaveClient, method, None)), operation
