#!/usr/bin/env bash
# Runs every test: C unit/engine tests (plain and ASan+UBSan builds), then
# the integration and Python tests with pytest. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
PYTHON=${PYTHON:-/usr/bin/python3}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
passed=0 failed=0

count_meson() { # $1: build dir, $2: label
  local log
  log=$(mktemp)
  meson test -C "$1" --print-errorlogs --no-rebuild >"$log" 2>&1
  local rc=$?
  grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sed "s/^/[$2] /"
  local ok fail
  ok=$(grep -E '^Ok:' "$log" | awk '{print $2}')
  fail=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$log" | awk '{s+=$2} END {print s+0}')
  if [ "$rc" -ne 0 ]; then
    # each failing test's own output, from meson's log
    awk '/^=+ [0-9]+\/[0-9]+ =+$/ { if (bad) printf "%s", blk; blk = ""; bad = 0 }
         { blk = blk $0 "\n" }
         /^result:/ && !/exit status 0$/ { bad = 1 }
         END { if (bad) printf "%s", blk }' "$1/meson-logs/testlog.txt" |
      tail -150
    [ "${fail:-0}" -gt 0 ] || fail=1
  fi
  passed=$((passed + ${ok:-0})); failed=$((failed + ${fail:-0}))
  rm -f "$log"
}

echo "== C tests"
count_meson "$BUILD" plain
echo "== C tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  count_meson "$ASAN_BUILD" asan

echo "== integration, Python and contract tests"
# The kill/resume tests write where their kills landed here.
export FERRY_KILL_LOG="$PWD/$BUILD/kill-resume.log"
rm -f "$FERRY_KILL_LOG"
log=$(mktemp)
FERRY_BUILD="$PWD/$BUILD" "$PYTHON" -m pytest -q -p no:cacheprovider tests/integration tests/python tests/contract 2>&1 | tee "$log"
p=$(grep -oE '[0-9]+ passed' "$log" | tail -1 | awk '{print $1}')
f=$(grep -oE '[0-9]+ (failed|error|errors)' "$log" | awk '{s+=$1} END {print s+0}')
if ! grep -qE '[0-9]+ passed' "$log"; then f=$((f > 0 ? f : 1)); fi
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
rm -f "$log"

if [ -f "$FERRY_KILL_LOG" ]; then
  echo "== kill -9 and resume: where the kills landed (every trial ended identical)"
  cat "$FERRY_KILL_LOG"
fi

# Hostile state files once more with ferry built with ASan+UBSan: a crash
# or a leak there fails the run.
echo "== state-file checks under ASan+UBSan"
log=$(mktemp)
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  FERRY_BUILD="$PWD/$ASAN_BUILD" "$PYTHON" -m pytest -q -p no:cacheprovider \
  tests/integration/test_qemu_state_checks.py 2>&1 | tee "$log"
p=$(grep -oE '[0-9]+ passed' "$log" | tail -1 | awk '{print $1}')
f=$(grep -oE '[0-9]+ (failed|error|errors)' "$log" | awk '{s+=$1} END {print s+0}')
if ! grep -qE '[0-9]+ passed' "$log"; then f=$((f > 0 ? f : 1)); fi
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
rm -f "$log"

# Every fuzzer over its corpus plus 30 seconds of new inputs.
echo "== fuzzers (ASan+UBSan)"
log=$(mktemp)
FUZZ_BUILD="$FUZZ_BUILD" bash scripts/fuzz.sh 30 2>&1 | tee "$log"
p=$(tail -1 "$log" | grep -oE '^[0-9]+ passed' | awk '{print $1}')
f=$(tail -1 "$log" | grep -oE '[0-9]+ failed' | awk '{print $1}')
[ -n "$p" ] || f=$(( ${f:-0} > 0 ? f : 1 ))
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
rm -f "$log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
