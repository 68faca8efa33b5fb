#!/usr/bin/env bash
# Fuzzing, three kinds, each for SECONDS (default 60):
#  1. the C core's libFuzzer targets (ASan + UBSan), from fuzz/corpus/<target>;
#  2. fuzz-request-path: the server's own Swift request path (routing, authentication, JSON
#     decoding, handlers) under libFuzzer + ASan, from fuzz/corpus/fuzz-request-path;
#  3. schemathesis against a live runtime with signed requests (EXAMPLES per operation and phase,
#     default 25 per 60 s of SECONDS).
# Prints executions and coverage per target; crashes land in build/fuzz*/artifacts.
# Usage: scripts/fuzz.sh [--c-only] [SECONDS] [EXAMPLES]   (EXAMPLES 0: no schemathesis run)
# FUZZ_ONLY=fuzz_nitro_cache (a C target's name) runs that target alone, e.g. for a long run of one.
# --c-only runs kind 1 alone: the test gate's brief run, since kind 2 needs a sanitizer build of the
# whole server (about ten minutes on a fresh clone) and its findings are replayed by the Swift tests.
set -euo pipefail
cd "$(dirname "$0")/.."

c_only=false
[[ ${1:-} == --c-only ]] && { c_only=true; shift; }
scripts/bootstrap.sh
seconds=${1:-60}
examples=${2:-$(( seconds < 60 ? 25 : seconds * 25 / 60 ))}
status=0

report() {  # name log result seconds
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$2" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$2" | tail -1 | cut -d' ' -f2)
  printf 'fuzz %-24s %-6s %10s executions in %ss, coverage %s edges\n' "$1" "$3" "${execs:-?}" "$4" "${cov:-?}"
  [[ $3 == ok ]] || tail -40 "$2"
}

# 1. C core.
make --no-print-directory -s fuzzers
mkdir -p build/fuzz/work
for target in build/fuzz/fuzz_*; do
  [[ -x $target && -f $target ]] || continue
  name=$(basename "$target")
  [[ -n ${FUZZ_ONLY:-} && $name != "$FUZZ_ONLY" ]] && continue
  mkdir -p "build/fuzz/work/$name" "build/fuzz/artifacts/$name"
  log="build/fuzz/$name.log"
  if "$target" "build/fuzz/work/$name" "fuzz/corpus/$name" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$name/" -max_len=8192 >"$log" 2>&1; then result=ok; else result=FAILED; status=1; fi
  report "$name" "$log" "$result" "$seconds"
done

$c_only && exit $status

# 2. Swift request path, built with the sanitizers in its own scratch path.
swift build -c debug --product fuzz-request-path --scratch-path .build-fuzz \
  --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
  2>&1 | grep -E 'error|warning: unre|Compiling|Build' | tail -3
name=fuzz-request-path
mkdir -p "build/fuzz-swift/work" "build/fuzz-swift/artifacts"
log="build/fuzz-swift/$name.log"
if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 .build-fuzz/debug/$name build/fuzz-swift/work "fuzz/corpus/$name" \
    -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=build/fuzz-swift/artifacts/ -max_len=4096 -rss_limit_mb=4096 \
    >"$log" 2>&1; then result=ok; else result=FAILED; status=1; fi
report "$name" "$log" "$result" "$seconds"

# 3. Contract fuzzing with schemathesis (signed requests, every operation) against the debug build.
(( examples > 0 )) || exit $status
scripts/bootstrap-contract-tools.sh
swift build --product enclave-runtime 2>&1 | tail -1
log=build/fuzz-swift/schemathesis.log
if build/venv/bin/python scripts/contract_fuzz.py --examples "$examples" >"$log" 2>&1; then result=ok; else result=FAILED; status=1; fi
printf 'fuzz %-24s %-6s %s\n' schemathesis "$result" "$(grep -A1 '^Test cases:' "$log" | tail -1 | xargs) test cases ($examples max examples per operation and phase)"
grep -E '^schemathesis: ' "$log" || true
[[ $result == ok ]] || tail -60 "$log"
exit $status
