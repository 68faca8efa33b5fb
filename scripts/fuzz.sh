#!/usr/bin/env bash
# Builds the libFuzzer targets (ASan + UBSan) and runs each for SECONDS (default 60), starting
# from the committed seed corpus; prints executions and coverage per target. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
make --no-print-directory -s fuzzers

work=build/fuzz/work
mkdir -p "$work"
status=0
for target in build/fuzz/fuzz_*; do
  [[ -x $target && -f $target ]] || continue
  name=$(basename "$target")
  corpus="$work/$name"
  mkdir -p "$corpus" "build/fuzz/artifacts/$name"
  log="build/fuzz/$name.log"
  # -print_final_stats gives the executions; crashes land in build/fuzz/artifacts.
  if "$target" "$corpus" "fuzz/corpus/$name" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$name/" -max_len=8192 >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  printf 'fuzz %-24s %-6s %10s executions in %ss, coverage %s edges\n' "$name" "$result" "${execs:-?}" "$seconds" "${cov:-?}"
  [[ $result == ok ]] || tail -40 "$log"
done
exit $status
