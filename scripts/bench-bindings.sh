#!/usr/bin/env bash
# Per-call signing cost from Python and Rust against Python's own hmac, in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory -s all
export CARGO_TARGET_DIR="$PWD/build/rust" ENCLAVE_CORE_LIB_DIR="$PWD/build/c"
cargo build --offline -q --release --manifest-path bindings/rust/Cargo.toml --example bench_sign
ENCLAVE_CORE_LIB="$PWD/build/c/libenclave_core.so.1" python3 scripts/bench_bindings.py build/rust/release/examples/bench_sign
