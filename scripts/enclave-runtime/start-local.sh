#!/usr/bin/env bash
# Starts the enclave runtime with the local defaults (dev-shim mode on 127.0.0.1:8181), building
# it first unless --no-build (scripts/build.sh builds every product at once); every setting can be
# overridden by the environment or a .env file.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${1:-} == --no-build ]]; then bin=.build/debug; else bin=$(scripts/build.sh); fi

export ALFRED_ENV="${ALFRED_ENV:-local}"
export ENCLAVE_RUNTIME_MODE="${ENCLAVE_RUNTIME_MODE:-dev-shim}"
export TEE_ATTESTATION_REQUIRED="${TEE_ATTESTATION_REQUIRED:-false}"
export TEE_ALLOW_INSECURE_DEV_ATTESTATION="${TEE_ALLOW_INSECURE_DEV_ATTESTATION:-true}"
export ENCLAVE_RUNTIME_BIND_ADDR="${ENCLAVE_RUNTIME_BIND_ADDR:-127.0.0.1:8181}"

exec "$bin/enclave-runtime"
