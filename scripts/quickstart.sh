#!/usr/bin/env bash
# The README's first command: set up, build, and run the default scenario.
#   bash scripts/quickstart.sh [SCENARIO.yaml]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
SCEN="${1:-$ROOT/scenarios/quickstart.yaml}"
mkdir -p "$ROOT/results"
OUT="$ROOT/results/$(basename "${SCEN%.yaml}").h5"
"$BUILD_DIR/sim/dualpath" run "$SCEN" -o "$OUT"
if /usr/bin/python3 "$ROOT/scripts/plot_timeseries.py" "${OUT%.h5}.png" "$OUT"; then
  echo "plot       ${OUT%.h5}.png"
fi
