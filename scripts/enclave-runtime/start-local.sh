#!/usr/bin/env bash
# Starts the enclave runtime with the local defaults (dev-shim mode on 127.0.0.1:8181), building
# it first unless --no-build (scripts/build.sh builds every product at once); every setting can be
# overridden by the environment or a .env file.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ${1:-} == --no-build ]]; then bin=.build/debug; else bin=$(scripts/build.sh); fi

. scripts/lib/local-opt-in.sh
export ENCLAVE_RUNTIME_MODE="${ENCLAVE_RUNTIME_MODE:-dev-shim}"
export ENCLAVE_RUNTIME_BIND_ADDR="${ENCLAVE_RUNTIME_BIND_ADDR:-127.0.0.1:8181}"

exec "$bin/enclave-runtime"
