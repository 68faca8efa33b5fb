#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, and runs every test of the project.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "bootstrap (Debian packages, just)"
scripts/bootstrap.sh

step "C core: shared and static library, exports"
make --no-print-directory -s -j2 all
exports=$(nm -D --defined-only build/c/libenclave_core.so.1 | awk '{print $3}')
if grep -v '^ec_' <<<"$exports"; then
  echo "libenclave_core.so.1 exports symbols without the ec_ prefix (above)" >&2
  exit 1
fi
[[ $(readelf -d build/c/libenclave_core.so.1 | grep -c 'SONAME.*libenclave_core.so.1\]') == 1 ]]
echo "exports: $(wc -l <<<"$exports") symbols, all ec_; soname libenclave_core.so.1"

step "C core under AddressSanitizer + UndefinedBehaviorSanitizer"
make --no-print-directory -s check-c

step "Python binding (ctypes) against build/c/libenclave_core.so.1"
/usr/bin/python3 -m pytest -q bindings/python/tests

step "fuzz targets, briefly"
scripts/fuzz.sh "${FUZZ_SECONDS:-5}"

step "Swift: build and test"
swift build
# A crashing test should fail at once, not wait in the interactive backtracer.
SWIFT_BACKTRACE=enable=no swift test
