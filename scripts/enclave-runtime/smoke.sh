#!/usr/bin/env bash
# Checks a running enclave runtime end to end: healthz, the attestation document, a challenge whose
# signature is verified against the document's public key, and a signed ping with the local secret
# (ENCLAVE_RPC_SHARED_SECRET, else the local default). Usage: smoke.sh [BASE_URL]; non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

base_url=${1:-${ENCLAVE_RUNTIME_BASE_URL:-http://127.0.0.1:8181}}
# The checks use the project's own C core (through the Python binding), as a host would.
make --no-print-directory -s all
ENCLAVE_CORE_LIB="$PWD/build/c/libenclave_core.so.1" PYTHONPATH="$PWD/bindings/python" \
  python3 scripts/enclave-runtime/smoke.py "$base_url"
