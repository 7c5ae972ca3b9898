#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer.
#   bash scripts/sanitize.sh [ctest args...]
# Builds in build-asan (BUILD_DIR overrides) with -DDP_SANITIZE=ON, without
# the CUDA shim (the sanitizers and the CUDA runtime do not mix), and runs
# ctest there. Any sanitizer report fails the test that triggered it: UBSan
# aborts (-fno-sanitize-recover), ASan exits non-zero, leaks included.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-asan}"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DDP_SANITIZE=ON \
      -DDP_WITH_CUDA=OFF -DDP_WITH_VERBS=OFF -DDP_WITH_MPI=OFF ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Check forks each test; the sanitizers follow the child, so a report inside
# a test fails that test. The e2e scripts run the sanitized dualpath binary.
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" "$@"
