#!/usr/bin/env bash
# The whole local system on the NSM simulator: the simulator (tools/nitro/nsm_sim.py), a loopback
# OAuth provider, the enclave runtime in remote mode attesting through the simulator
# (TEE_ATTESTATION_SOURCE=nsm), then the api and the worker pinning the simulator's root and PCRs.
# Ctrl-C stops everything. The same binaries run inside a real Nitro Enclave with /dev/nsm, the AWS
# root (built in) and the PCRs of your enclave image: see the README.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(scripts/build.sh)
make --no-print-directory -s all
state=$(mktemp -d /tmp/dev-nitro.XXXXXX)
source scripts/lib/children.sh
trap stop_children INT TERM EXIT

/usr/bin/python3 tools/nitro/nsm_sim.py --socket "$state/nsm.sock" --root-out "$state/nsm-root.pem" >"$state/nsm.out" &
pids+=($!)
# The provider stand-in lives while its stdin (this script's end of the pipe) stays open.
coproc provider { exec /usr/bin/python3 Tests/Fixtures/oauth_provider.py dev-nitro-client dev-nitro-client-secret; }
read -r _ provider_port <&"${provider[0]}"
for _ in $(seq 1 50); do grep -q '^PCRS ' "$state/nsm.out" 2>/dev/null && break; sleep 0.1; done
pcrs=$(sed -n 's/^PCRS //p' "$state/nsm.out")
pcr0=${pcrs#0=}
pcr0=${pcr0%%,*}

export ALFRED_ENV=local ENCLAVE_RUNTIME_MODE=remote TEE_ATTESTATION_REQUIRED=true TEE_ALLOW_INSECURE_DEV_ATTESTATION=false
ENCLAVE_DATA_KEY=$(head -c 32 /dev/urandom | base64) TEE_ATTESTATION_SOURCE=nsm ENCLAVE_NSM_DEVICE="unix:$state/nsm.sock" \
  ENCLAVE_STATE_DIR="$state/enclave" GOOGLE_OAUTH_CLIENT_ID=dev-nitro-client GOOGLE_OAUTH_CLIENT_SECRET=dev-nitro-client-secret \
  GOOGLE_OAUTH_TOKEN_URL="http://127.0.0.1:$provider_port/token" GOOGLE_OAUTH_REVOKE_URL="http://127.0.0.1:$provider_port/revoke" \
  "$bin/enclave-runtime" & pids+=($!)
base=${ENCLAVE_RUNTIME_BASE_URL:-http://127.0.0.1:8181}
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

export TEE_ALLOWED_PCRS="$pcrs" TEE_NITRO_ROOT_CERTIFICATE="$state/nsm-root.pem" TEE_ALLOWED_MEASUREMENTS="$pcr0"
HOST_STATE_DIR="$state/host" "$bin/api" & pids+=($!)
HOST_STATE_DIR="$state/host" "$bin/worker" & pids+=($!)
echo "dev-nitro: simulator, provider (127.0.0.1:$provider_port), enclave-runtime, api and worker are running; state in $state; Ctrl-C stops them" >&2
wait -n
