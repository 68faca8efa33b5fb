# Local recipes; `just --list` shows them.

# Start the enclave runtime with the local defaults (dev-shim on 127.0.0.1:8181).
enclave-runtime:
    scripts/enclave-runtime/start-local.sh

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
