#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, and runs every test of the project.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "bootstrap (Debian packages, just, Rust toolchain check)"
scripts/bootstrap.sh

step "C core: shared and static library, exports, C client"
make --no-print-directory -s -j2 all tools tools-asan
exports=$(nm -D --defined-only build/c/libenclave_core.so.1 | awk '{print $3}')
if grep -v '^ec_' <<<"$exports"; then
  echo "libenclave_core.so.1 exports symbols without the ec_ prefix (above)" >&2
  exit 1
fi
[[ $(readelf -d build/c/libenclave_core.so.1 | grep -c 'SONAME.*libenclave_core.so.1\]') == 1 ]]
echo "exports: $(wc -l <<<"$exports") symbols, all ec_; soname libenclave_core.so.1"

step "C core installed into a temporary prefix, used through pkg-config"
scripts/check-install.sh

step "C core under AddressSanitizer + UndefinedBehaviorSanitizer"
make --no-print-directory -s check-c

step "Rust binding (no registry dependencies, offline)"
export CARGO_TARGET_DIR="$PWD/build/rust"
ENCLAVE_CORE_LIB_DIR="$PWD/build/c" cargo test --offline -q --manifest-path bindings/rust/Cargo.toml
ENCLAVE_CORE_LIB_DIR="$PWD/build/c" cargo build --offline -q --manifest-path bindings/rust/Cargo.toml --examples

step "Swift: build"
swift build

step "contract: OpenAPI spec validation, live answers against the spec, schemathesis (bounded)"
scripts/bootstrap-contract-tools.sh
build/venv/bin/python -m pytest -q Tests/Contract

step "fuzzing, briefly: C core, the Swift request path, schemathesis"
scripts/fuzz.sh "${FUZZ_SECONDS:-5}" 5

step "load generator, briefly (debug build: checks the tooling, not the speed), and SIGTERM at saturation"
python3 scripts/bench_load.py --configuration debug --seconds 1 --warmup 0.5 --connections 16 --rounds 1 --pairs 2 --pair-seconds 1

step "Python binding and clients (live against the built enclave-runtime)"
/usr/bin/python3 -m pytest -q bindings/python/tests

step "Swift: test"
# A crashing test should fail at once, not wait in the interactive backtracer.
SWIFT_BACKTRACE=enable=no swift test
