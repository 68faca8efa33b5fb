#!/usr/bin/env bash
# The whole local system on the NSM simulator: the simulator (tools/nitro/nsm_sim.py), a loopback
# OAuth provider, the KMS stand-in (Tests/Fixtures/kms_standin.py, a key policy on the simulator's
# PCR0), the enclave runtime in remote mode attesting through the simulator
# (TEE_ATTESTATION_SOURCE=nsm) with its data key and client secret released by that KMS at start
# (docs/operations.md shows the same with AWS), then the api and the worker pinning the
# simulator's root and PCRs.
# Ctrl-C stops everything. The same binaries run inside a real Nitro Enclave with /dev/nsm, the AWS
# root (built in) and the PCRs of your enclave image: see the README.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(scripts/build.sh)
make --no-print-directory -s all
scripts/bootstrap-contract-tools.sh >/dev/null  # build/venv: botocore for the KMS stand-in, the AWS CLI
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

# KMS: a key whose policy releases only to documents with the simulator's PCR0, and the operator's
# two ciphertexts made with the AWS CLI, as docs/operations.md makes them against AWS.
key_arn=arn:aws:kms:eu-west-1:111122223333:key/dev-nitro-key
export AWS_ACCESS_KEY_ID=AKIDDEVNITRO AWS_SECRET_ACCESS_KEY="dev-nitro-$(head -c 12 /dev/urandom | base64)" AWS_DEFAULT_REGION=eu-west-1
# Like the provider it lives while its stdin stays open: here a FIFO this script holds (one coproc only).
mkfifo "$state/kms.in"
exec 9<>"$state/kms.in"
build/venv/bin/python Tests/Fixtures/kms_standin.py "$key_arn" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
  "$state/nsm-root.pem" "$pcr0" <&9 >"$state/kms.out" & pids+=($!)
for _ in $(seq 1 50); do grep -q '^PORT ' "$state/kms.out" 2>/dev/null && break; sleep 0.1; done
kms_port=$(sed -n 's/^PORT //p' "$state/kms.out")
aws=(build/venv/bin/aws kms --endpoint-url "http://127.0.0.1:$kms_port" --output text --query CiphertextBlob)
data_key=$("${aws[@]}" generate-data-key-without-plaintext --key-id "$key_arn" --key-spec AES_256 \
  --encryption-context enclave-runtime=data-key)
client_secret=$("${aws[@]}" encrypt --key-id "$key_arn" --plaintext fileb://<(printf dev-nitro-client-secret) \
  --encryption-context enclave-runtime=oauth-client-secret)

export ALFRED_ENV=local ENCLAVE_RUNTIME_MODE=remote TEE_ATTESTATION_REQUIRED=true TEE_ALLOW_INSECURE_DEV_ATTESTATION=false
# Attested TLS (docs/contract.md §2b): the hosts verify each connection's Nitro document in its handshake.
export ENCLAVE_RUNTIME_TLS=attested ENCLAVE_RUNTIME_BASE_URL=${ENCLAVE_RUNTIME_BASE_URL:-https://127.0.0.1:8181}
ENCLAVE_DATA_KEY="kms:$data_key" KMS_KEY_ID="$key_arn" ENCLAVE_KMS_ENDPOINT="http://127.0.0.1:$kms_port" \
  TEE_ATTESTATION_SOURCE=nsm ENCLAVE_NSM_DEVICE="unix:$state/nsm.sock" \
  ENCLAVE_STATE_DIR="$state/enclave" GOOGLE_OAUTH_CLIENT_ID=dev-nitro-client GOOGLE_OAUTH_CLIENT_SECRET="kms:$client_secret" \
  GOOGLE_OAUTH_TOKEN_URL="http://127.0.0.1:$provider_port/token" GOOGLE_OAUTH_REVOKE_URL="http://127.0.0.1:$provider_port/revoke" \
  "$bin/enclave-runtime" & pids+=($!)
base=$ENCLAVE_RUNTIME_BASE_URL
for _ in $(seq 1 100); do curl -fsSk "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY  # the hosts sign nothing for KMS
export TEE_ALLOWED_PCRS="$pcrs" TEE_NITRO_ROOT_CERTIFICATE="$state/nsm-root.pem" TEE_ALLOWED_MEASUREMENTS="$pcr0"
HOST_STATE_DIR="$state/host" "$bin/api" & pids+=($!)
HOST_STATE_DIR="$state/host" "$bin/worker" & pids+=($!)
echo "dev-nitro: simulator, provider (127.0.0.1:$provider_port), KMS stand-in (127.0.0.1:$kms_port), enclave-runtime (secrets from KMS: $(curl -fsSk "$base/healthz")), api and worker are running; state in $state; Ctrl-C stops them" >&2
wait -n
