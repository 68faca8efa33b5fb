# Local recipes; `just --list` shows them.

# Start the enclave runtime with the local defaults (dev-shim on 127.0.0.1:8181).
enclave-runtime:
    scripts/enclave-runtime/start-local.sh

# Start the api against the local enclave runtime (probes it first, fail-closed).
api:
    scripts/hosts/start-local.sh api

# Start the worker against the local enclave runtime (probes it first, fail-closed).
worker:
    scripts/hosts/start-local.sh worker

# The whole local system: enclave runtime, then api and worker once it is healthy; Ctrl-C stops all.
dev:
    scripts/dev.sh

# Check a running enclave runtime (default http://127.0.0.1:8181).
smoke base_url="http://127.0.0.1:8181":
    scripts/enclave-runtime/smoke.sh {{base_url}}

# Every test.
test:
    scripts/test.sh

# Micro-benchmarks with ratios against the baselines measured in the same run.
bench:
    scripts/bench.sh

# Fuzz every target for the given seconds each.
fuzz seconds="60":
    scripts/fuzz.sh {{seconds}}

# The whole local system on the NSM simulator: attestation as a Nitro Enclave produces it.
dev-nitro:
    scripts/dev-nitro.sh

# A local fleet: PostgreSQL, three runtime replicas, two apis and two workers; Ctrl-C stops all.
dev-fleet:
    scripts/dev-fleet.sh
