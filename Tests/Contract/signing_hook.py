"""Schemathesis hook: signs generated `/v1/rpc/` requests so that their bodies get past
authentication and reach the JSON decoders and handlers.

The body is serialized here and sent as exactly these bytes (`data=`), because the signature
covers the raw body. A share of requests (UNSIGNED_SHARE) keeps the generated headers, so the
header checks are exercised as well. Registered globally, so it applies to the pytest run
(Tests/Contract) and to `schemathesis run` with SCHEMATHESIS_HOOKS=signing_hook alike.
"""
import json
import os
import random
import secrets
import sys
import time

import schemathesis
from schemathesis.core import NotSet

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(_ROOT, "bindings", "python"))
os.environ.setdefault("ENCLAVE_CORE_LIB", os.path.join(_ROOT, "build", "c", "libenclave_core.so.1"))
import enclave_core  # noqa: E402

UNSIGNED_SHARE = 0.15
_signer = None


def _secret():
    return os.environ.get("ENCLAVE_RPC_SHARED_SECRET", "local-dev-enclave-rpc-secret")


@schemathesis.hook
def before_call(context, case, kwargs):
    global _signer
    path = case.formatted_path
    if not path.startswith("/v1/rpc/"):
        return
    if isinstance(case.body, NotSet):
        body = b""
    elif isinstance(case.body, (bytes, bytearray)):  # negative mode: raw, not JSON
        body = bytes(case.body)
    elif isinstance(case.body, str):
        body = case.body.encode("utf-8", "surrogatepass")
    else:
        body = json.dumps(case.body, ensure_ascii=False, separators=(",", ":"),
                          default=lambda value: value.decode("latin-1") if isinstance(value, bytes) else str(value)
                          ).encode("utf-8", "surrogatepass")
    kwargs["data"] = body
    if random.random() < UNSIGNED_SHARE:
        return
    if _signer is None:
        _signer = enclave_core.RpcSigner(_secret())
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    headers = dict(case.headers or {})
    for name in list(headers):
        if name.lower().startswith("x-alfred-rpc-"):
            del headers[name]
    headers.update({"x-alfred-rpc-version": "v1", "x-alfred-rpc-ts": ts, "x-alfred-rpc-nonce": nonce,
                    "x-alfred-rpc-signature": _signer.sign_hex("POST", path, ts, nonce, body)})
    case.headers = headers


# The contract's 5xx answers that an external caller can legitimately cause: a provider that
# refuses a generated authorization code (provider_failed), or one that is down or garbled.
# Any other 5xx, and every 500, is a failure of the run.
PROVIDER_CODES = {"provider_failed", "provider_unavailable", "provider_response_invalid", "replay_cache_full"}


@schemathesis.check
def no_internal_error(ctx, response, case):
    if response.status_code < 500:
        return None
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    if response.status_code == 500 or code not in PROVIDER_CODES:
        raise AssertionError(f"server error {response.status_code} ({code}) on {case.method} {case.formatted_path}")
    return None
