#!/usr/bin/env bash
# Runs the micro-benchmarks (Benchmarks/, ordo-one/benchmark) and prints medians and the ratios
# against the baselines measured in the same run. Usage: scripts/bench.sh [--filter REGEX]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
mkdir -p build/bench
(cd Benchmarks && swift package benchmark --no-progress --format markdown "$@") | tee build/bench/micro.md
echo
python3 scripts/bench_summary.py < build/bench/micro.md
