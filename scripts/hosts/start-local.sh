#!/usr/bin/env bash
# Starts a host service (api or worker) against the local dev-shim enclave runtime, with the
# runbook's local opt-in, building first unless --no-build; every setting can be overridden by the
# environment or .env.
# Usage: scripts/hosts/start-local.sh api|worker [--no-build]
set -euo pipefail
cd "$(dirname "$0")/../.."

role=${1:?usage: start-local.sh api|worker [--no-build]}
[[ $role == api || $role == worker ]] || { echo "unknown host service: $role" >&2; exit 2; }
if [[ ${2:-} == --no-build ]]; then bin=.build/debug; else bin=$(scripts/build.sh); fi

. scripts/lib/local-opt-in.sh
export ENCLAVE_RUNTIME_MODE="${ENCLAVE_RUNTIME_MODE:-dev-shim}"
export ENCLAVE_RUNTIME_BASE_URL="${ENCLAVE_RUNTIME_BASE_URL:-http://127.0.0.1:8181}"

exec "$bin/$role"
