#!/usr/bin/env bash
# Builds the enclave runtime if needed and starts it with the local defaults (dev-shim mode on
# 127.0.0.1:8181); every setting can be overridden by the environment or a .env file.
set -euo pipefail
cd "$(dirname "$0")/../.."

scripts/bootstrap.sh >&2
swift build --product enclave-runtime >&2

export ALFRED_ENV="${ALFRED_ENV:-local}"
export ENCLAVE_RUNTIME_MODE="${ENCLAVE_RUNTIME_MODE:-dev-shim}"
export TEE_ATTESTATION_REQUIRED="${TEE_ATTESTATION_REQUIRED:-false}"
export TEE_ALLOW_INSECURE_DEV_ATTESTATION="${TEE_ALLOW_INSECURE_DEV_ATTESTATION:-true}"
export ENCLAVE_RUNTIME_BIND_ADDR="${ENCLAVE_RUNTIME_BIND_ADDR:-127.0.0.1:8181}"

exec "$(swift build --show-bin-path)/enclave-runtime"
