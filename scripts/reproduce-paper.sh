#!/usr/bin/env bash
# The paper's evaluation (scenarios/paper/) in simulation: writes
# results/paper/report.md ("paper figure | paper value | ours") and PNGs.
#   bash scripts/reproduce-paper.sh [--quick] [--jobs N] [--out DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
[ -x "$BUILD_DIR/sim/dualpath" ] || source "$ROOT/scripts/setup.sh"
exec /usr/bin/python3 "$ROOT/scripts/reproduce_paper.py" --dualpath "$BUILD_DIR/sim/dualpath" "$@"
