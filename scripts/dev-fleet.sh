#!/usr/bin/env bash
# A local fleet: a private PostgreSQL cluster (scripts/lib/pg-cluster.sh), a loopback OAuth
# provider, three enclave-runtime replicas on one database (127.0.0.1:8181-8183, sharing the data
# key and the evidence key as a fleet does), two apis (127.0.0.1:8080 and 8081) and two workers on
# one job store. Ctrl-C stops everything, the database last. State stays in the printed directory.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(scripts/build.sh)
state=$(mktemp -d /tmp/dev-fleet.XXXXXX)
chmod 755 "$state"
source scripts/lib/children.sh
stop() {
  stop_children
  scripts/lib/pg-cluster.sh stop "$state/pg" || true
}
trap stop INT TERM EXIT

port=$(scripts/lib/pg-cluster.sh start "$state/pg")
for database in enclave hosts; do
  psql -X -q -h "$state/pg" -p "$port" -U postgres -c "CREATE DATABASE $database"
done
password=$(cat "$state/pg/password")
coproc provider { exec /usr/bin/python3 Tests/Fixtures/oauth_provider.py dev-fleet-client dev-fleet-client-secret; }
read -r _ provider_port <&"${provider[0]}"

. scripts/lib/local-opt-in.sh
export ENCLAVE_RUNTIME_MODE=dev-shim
export ENCLAVE_DATABASE_URL="postgres://postgres:$password@127.0.0.1:$port/enclave"
export ENCLAVE_DATA_KEY=$(head -c 32 /dev/urandom | base64) TEE_ATTESTATION_SIGNING_PRIVATE_KEY=$(head -c 32 /dev/urandom | base64)
export GOOGLE_OAUTH_CLIENT_ID=dev-fleet-client GOOGLE_OAUTH_CLIENT_SECRET=dev-fleet-client-secret
export GOOGLE_OAUTH_TOKEN_URL="http://127.0.0.1:$provider_port/token" GOOGLE_OAUTH_REVOKE_URL="http://127.0.0.1:$provider_port/revoke"
for replica in 1 2 3; do
  ENCLAVE_STATE_DIR="$state/enclave-$replica" ENCLAVE_RUNTIME_BIND_ADDR="127.0.0.1:818$replica" "$bin/enclave-runtime" &
  pids+=($!)
done
for replica in 1 2 3; do
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:818$replica/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
done

export HOST_DATABASE_URL="postgres://postgres:$password@127.0.0.1:$port/hosts" WORKER_TICK_SECONDS=5
ENCLAVE_RUNTIME_BASE_URL=http://127.0.0.1:8181 API_BIND_ADDR=127.0.0.1:8080 "$bin/api" & pids+=($!)
ENCLAVE_RUNTIME_BASE_URL=http://127.0.0.1:8182 API_BIND_ADDR=127.0.0.1:8081 "$bin/api" & pids+=($!)
ENCLAVE_RUNTIME_BASE_URL=http://127.0.0.1:8182 "$bin/worker" & pids+=($!)
ENCLAVE_RUNTIME_BASE_URL=http://127.0.0.1:8183 "$bin/worker" & pids+=($!)
echo "dev-fleet: PostgreSQL on 127.0.0.1:$port (password in $state/pg/password), provider on 127.0.0.1:$provider_port," \
  "replicas on 127.0.0.1:8181-8183, apis on 127.0.0.1:8080-8081, two workers; Ctrl-C stops them" >&2
wait -n
