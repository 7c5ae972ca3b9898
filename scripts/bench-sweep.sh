#!/usr/bin/env bash
# Sweep throughput on one machine, as name=value lines:
#   points=                 points in the sweep (a grid over scenarios/quickstart.yaml)
#   points_per_minute_j1=   simulated points per wall minute with -j 1
#   points_per_minute_j2=   the same with -j 2
#   speedup_j2=             points_per_minute_j2 / points_per_minute_j1
#   bash scripts/bench-sweep.sh            64 points: PE 1-4 x DE 1-4 x policy x storage NIC
#   bash scripts/bench-sweep.sh --short    CI: 8 points (PE 1-2 x DE 1-2 x policy)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
DP="$BUILD_DIR/sim/dualpath"
[ -x "$DP" ] || { echo "bench-sweep: build first (bash scripts/test.sh or scripts/quickstart.sh)" >&2; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT

{
  cat "$ROOT/scenarios/quickstart.yaml"
  echo
  echo "sweep:"
  echo "  vary:"
  if [ "${1:-}" = "--short" ]; then
    echo "    cluster.prefill_engines: [1, 2]"
    echo "    cluster.decode_engines: [1, 2]"
    echo "    policy.name: [basic, dualpath]"
  else
    echo "    cluster.prefill_engines: {from: 1, to: 4, step: 1}"
    echo "    cluster.decode_engines: {from: 1, to: 4, step: 1}"
    echo "    policy.name: [basic, dualpath]"
    echo "    hardware.snic_bw: [25e9, 50e9]"
  fi
  echo "  goal: {kind: grid}"
} >"$T/bench.yaml"

now() { date +%s.%N; }
run() {  # JOBS: prints the wall seconds
  local t0 t1
  t0="$(now)"
  "$DP" sweep "$T/bench.yaml" -j "$1" -o "$T/j$1" --no-plot -q >"$T/j$1.out"
  t1="$(now)"
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

n="$("$DP" sweep "$T/bench.yaml" --list | sed -nE 's/^([0-9]+) configurations.*/\1/p')"
w1="$(run 1)"
w2="$(run 2)"
cmp -s "$T/j1.csv" "$T/j2.csv" || { echo "bench-sweep: -j 2 gave a different table from -j 1" >&2; exit 1; }
echo "points=$n"
echo "wall_s_j1=$w1"
echo "wall_s_j2=$w2"
awk -v n="$n" -v a="$w1" -v b="$w2" 'BEGIN {
  printf "points_per_minute_j1=%.1f\npoints_per_minute_j2=%.1f\nspeedup_j2=%.2f\n", 60 * n / a, 60 * n / b, a / b }'
