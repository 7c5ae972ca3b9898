#!/usr/bin/env bash
# Fuzz the scenario loader and the trace readers with libFuzzer (clang),
# under ASan + UBSan, for SECONDS each (default 60). Prints, per target:
#   fuzz_<target>_execs=N      inputs run
#   fuzz_<target>_crashes=N    inputs that crashed, leaked, hung or broke a check
# and exits non-zero when any target found one. Each crashing input is kept
# in $FUZZ_OUT/<target>/ (default: a scratch folder, printed); to keep one as
# a regression test copy it to tests/fuzz/regressions/<target>/ after the fix.
#   bash scripts/fuzz.sh 20                 CI: 20 s a target
#   bash scripts/fuzz.sh 600 mooncake       one target
#   FUZZ_CORPUS=DIR bash scripts/fuzz.sh 60 keep the grown corpus in DIR/<target>
# Seeds: scenarios/**/*.yaml, models/**/*.yaml, tests/data/*.yaml,
# tests/data/bad_scenarios/*, tests/data/*.jsonl, tests/data/bad/*, and the
# kept regressions. Builds in build-fuzz (BUILD_DIR overrides).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("${@:-scenario mooncake sessions bailian agentic}")
read -r -a TARGETS <<<"${TARGETS[*]}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-fuzz}"
CC_FUZZ="${CC_FUZZ:-$(command -v clang || command -v clang-14 || true)}"
[ -n "$CC_FUZZ" ] || { echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

# -O1 -g without NDEBUG: the asserts stay on while fuzzing.
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_C_COMPILER="$CC_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DDP_SANITIZE=ON -DDP_FUZZ=ON \
      -DDP_WITH_CUDA=OFF -DDP_WITH_VERBS=OFF -DDP_WITH_MPI=OFF >/dev/null
if ! cmake --build "$BUILD_DIR" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${TARGETS[@]}") \
     >"$BUILD_DIR/fuzz-build.log" 2>&1; then
  cat "$BUILD_DIR/fuzz-build.log" >&2
  exit 2
fi

SCRATCH="$(mktemp -d /tmp/dp_fuzz_run.XXXXXX)"
OUT="${FUZZ_OUT:-$SCRATCH/crashes}"
cleanup() { [ -n "${FUZZ_KEEP:-}" ] || rm -rf "$SCRATCH/corpus"; }
trap cleanup EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
shopt -s nullglob globstar

seeds() {  # TARGET -> seed files
  case "$1" in
    scenario) printf '%s\n' "$ROOT"/scenarios/**/*.yaml "$ROOT"/models/**/*.yaml \
                "$ROOT"/tests/data/*.yaml "$ROOT"/tests/data/bad_scenarios/* ;;
    *)        printf '%s\n' "$ROOT"/tests/data/*.jsonl "$ROOT"/tests/data/bad/* ;;
  esac
  printf '%s\n' "$ROOT"/tests/fuzz/regressions/"$1"/*
}

failed=0
for t in "${TARGETS[@]}"; do
  bin="$BUILD_DIR/tests/fuzz/fuzz_$t"
  corpus="${FUZZ_CORPUS:+$FUZZ_CORPUS/$t}"
  corpus="${corpus:-$SCRATCH/corpus/$t}"
  mkdir -p "$corpus" "$OUT/$t" "$SCRATCH/logs"
  while read -r f; do
    [ -f "$f" ] || continue
    # big seeds (a 200-line trace) enter as their first 40 lines
    head -n 40 "$f" >"$corpus/seed_$(basename "$(dirname "$f")")_$(basename "$f")"
  done < <(seeds "$t")
  dict="$ROOT/tests/fuzz/$([ "$t" = scenario ] && echo scenario || echo jsonl).dict"
  execs=0; crashes=0; left="$SECONDS_EACH"; runs=0
  # libFuzzer stops at the first crash: start again with the time left, so
  # one run reports every distinct input that fails (up to 20).
  while [ "$left" -gt 0 ] && [ "$runs" -lt 20 ]; do
    runs=$((runs + 1))
    log="$SCRATCH/logs/$t.$runs.log"
    start=$(date +%s)
    set +e
    "$bin" "$corpus" -dict="$dict" -max_total_time="$left" -max_len=16384 -timeout=10 \
           -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/$t/" \
           -close_fd_mask=1 >"$log" 2>&1
    rc=$?
    set -e
    n=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    [ -n "$n" ] || n=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    execs=$((execs + ${n:-0}))
    left=$((left - ($(date +%s) - start)))
    if [ "$rc" -ne 0 ]; then
      crashes=$((crashes + 1))
      art=$(grep -oE "(Test unit|artifact) written to [^ ]+" "$log" | tail -1 | awk '{print $NF}' || true)
      echo "fuzz: $t: input ${art:-?} failed (log: $log):" >&2
      grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz_[a-z]+:)" "$log" | head -5 >&2 || true
      [ -n "$art" ] || { tail -20 "$log" >&2; break; }
    fi
  done
  echo "fuzz_${t}_execs=$execs"
  echo "fuzz_${t}_crashes=$crashes"
  [ "$crashes" -eq 0 ] || failed=1
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: failing inputs in $OUT" >&2
  exit 1
fi
[ -n "${FUZZ_OUT:-}" ] || rm -rf "$SCRATCH"
