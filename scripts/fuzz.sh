#!/usr/bin/env bash
# Runs every libFuzzer target over its corpus (tests/fuzz/corpus/NAME, kept
# in the tree) and then on new inputs for SECONDS each (default 30), under
# ASan+UBSan. New inputs go to a temp dir, never into the tree; a crash
# leaves its input in FUZZ_ARTIFACTS (default build-fuzz/artifacts).
# Usage: scripts/fuzz.sh [SECONDS] [NAME...]. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
seconds=${1:-30}
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(extents json uri soap qmp)
art=${FUZZ_ARTIFACTS:-$FUZZ_BUILD/artifacts}
mkdir -p "$art"
passed=0 failed=0
for n in "${names[@]}"; do
  bin=$FUZZ_BUILD/tests/fuzz/fuzz_$n
  new=$(mktemp -d)
  log=$(mktemp)
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$art/$n-" \
      "$new" "tests/fuzz/corpus/$n" >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" |
         grep -oE '[0-9]+$')
  if [ $rc -eq 0 ]; then
    echo "fuzz $n: ok, ${runs:-?} inputs in ${seconds}s (corpus $(ls "tests/fuzz/corpus/$n" | wc -l) + $(ls "$new" | wc -l) new)"
    passed=$((passed + 1))
  else
    echo "fuzz $n: FAILED (exit $rc); the input is in $art/"
    grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log" | head -20
    tail -30 "$log"
    failed=$((failed + 1))
  fi
  rm -rf "$new" "$log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
