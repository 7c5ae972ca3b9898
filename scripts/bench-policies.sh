#!/usr/bin/env bash
# Policy figures, as name=value lines:
#   dualpath_over_basic=       offline throughput ratio, scenarios/paper/offline-ds660b.yaml
#   oracle_over_dualpath=      offline throughput ratio (how far DualPath is from no storage limit)
#   scheduler_ns_per_request=  DualPath's route() per request over 48 engines (48 nodes)
#   bash scripts/bench-policies.sh            full (1,024 agents)
#   bash scripts/bench-policies.sh --short    CI (256 agents)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
DP="$BUILD_DIR/sim/dualpath"
[ -x "$DP" ] || { echo "bench-policies: build first (bash scripts/test.sh)" >&2; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
SCEN="$ROOT/scenarios/paper/offline-ds660b.yaml"
extra=()
[ "${1:-}" = "--short" ] && extra=(--set workload.synthetic.agents=256)

"$DP" compare "$SCEN" --policies basic,dualpath,oracle -o "$T/cmp" --no-plot -q "${extra[@]}" >"$T/out"
tput() { awk -v p="$1" '$1 == p { print $3 }' "$T/out"; }
b="$(tput basic)"; d="$(tput dualpath)"; o="$(tput oracle)"
echo "basic_tok_s=$b"
echo "dualpath_tok_s=$d"
echo "oracle_tok_s=$o"
awk -v b="$b" -v d="$d" -v o="$o" 'BEGIN { printf "dualpath_over_basic=%.3f\noracle_over_dualpath=%.3f\n", d / b, o / d }'
iters=1000000
[ "${1:-}" = "--short" ] && iters=100000
"$BUILD_DIR/sim/bench_sched" "$SCEN" 24 24 "$iters" | grep -E "^(engines|scheduler_ns_per_request)="
