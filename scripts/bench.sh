#!/usr/bin/env bash
# Benchmarks; every ratio is against a baseline measured in the same run.
#   scripts/bench.sh              micro-benchmarks, then the whole-path load run with a 5-minute soak
#   scripts/bench.sh micro [ARGS] only Benchmarks/ (ordo-one/benchmark); ARGS go to `swift package benchmark`
#   scripts/bench.sh load [ARGS]  only scripts/bench_load.py (release build): throughput table against the
#                                 hello-world floor, latencies, soak (--soak SECONDS), SIGTERM at saturation
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
mkdir -p build/bench
part=${1:-all}
[[ $# -gt 0 ]] && shift

micro() {
  make --no-print-directory -s all
  /usr/bin/python3 tools/nitro/bench_fixtures.py build/bench/nitro >/dev/null  # synthetic Nitro documents
  (cd Benchmarks && swift package benchmark --no-progress --format markdown "$@") | tee build/bench/micro.md
  echo
  python3 scripts/bench_summary.py < build/bench/micro.md
}

load() {
  make --no-print-directory -s all  # libenclave_core.so.1 for the Python client that registers a connector
  swift build -c release --product enclave-runtime-bench
  swift build -c release --product enclave-load
  python3 scripts/bench_load.py "$@" | tee build/bench/load.md
}

case $part in
  micro) micro "$@" ;;
  load) load "$@" ;;
  all) micro; load --soak 300 ;;
  *) echo "usage: scripts/bench.sh [micro|load|all] [ARGS]" >&2; exit 2 ;;
esac
