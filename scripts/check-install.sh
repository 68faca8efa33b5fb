#!/usr/bin/env bash
# Installs the C library into a temporary prefix, builds examples/c/version_check.c with
# `pkg-config --cflags --libs enclave_core`, runs it, and checks the installed files, the soname
# symlinks and that only ec_ symbols are exported. No system-wide side effects.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
make --no-print-directory -s install PREFIX="$prefix"
version=$(sed -n 's/^Version: //p' "$prefix/lib/pkgconfig/enclave_core.pc")
for f in include/enclave_core.h lib/libenclave_core.a lib/libenclave_core.so.1 lib/libenclave_core.so "lib/libenclave_core.so.$version"; do
  [[ -e $prefix/$f ]] || { echo "missing after install: $f" >&2; exit 1; }
done
[[ $(readlink "$prefix/lib/libenclave_core.so.1") == "libenclave_core.so.$version" ]]

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -o "$prefix/version_check" examples/c/version_check.c $(pkg-config --cflags --libs enclave_core)
LD_LIBRARY_PATH="$prefix/lib" "$prefix/version_check"
# The static library links too (with its private dependencies).
# shellcheck disable=SC2046
cc -o "$prefix/version_check_static" examples/c/version_check.c $(pkg-config --cflags enclave_core) \
  "$prefix/lib/libenclave_core.a" -lcrypto -lb2 -lsodium
"$prefix/version_check_static"

others=$(nm -D --defined-only "$prefix/lib/libenclave_core.so.1" | awk '{print $3}' | grep -v '^ec_' || true)
[[ -z $others ]] || { echo "non-ec_ exports: $others" >&2; exit 1; }
echo "install check: ok (prefix layout, pkg-config build, shared and static link, ec_-only exports)"
