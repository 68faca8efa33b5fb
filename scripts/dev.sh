#!/usr/bin/env bash
# The whole local system: the enclave runtime, then (once it is healthy) the api and the worker.
# Ctrl-C (or SIGTERM) stops all three. Attested TLS is on (docs/contract.md §2b): the hosts verify
# every connection's certificate in its handshake (ENCLAVE_RUNTIME_TLS=off for plain HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build.sh >/dev/null  # once, for all three

source scripts/lib/children.sh
trap stop_children INT TERM EXIT

export ENCLAVE_RUNTIME_TLS=${ENCLAVE_RUNTIME_TLS:-attested}
[[ $ENCLAVE_RUNTIME_TLS == attested ]] && export ENCLAVE_RUNTIME_BASE_URL=${ENCLAVE_RUNTIME_BASE_URL:-https://127.0.0.1:8181}
scripts/enclave-runtime/start-local.sh --no-build & pids+=($!)
base=${ENCLAVE_RUNTIME_BASE_URL:-http://127.0.0.1:8181}
curl=(curl -fsS --insecure)  # this script's own health check; the hosts verify the channel
for _ in $(seq 1 100); do
  "${curl[@]}" "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
"${curl[@]}" "$base/healthz" >/dev/null || { echo "dev: the enclave runtime did not become healthy" >&2; exit 1; }

scripts/hosts/start-local.sh api --no-build & pids+=($!)
scripts/hosts/start-local.sh worker --no-build & pids+=($!)
echo "dev: enclave-runtime, api and worker are running; Ctrl-C stops them" >&2
wait -n
