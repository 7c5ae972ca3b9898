#!/usr/bin/env bash
# Simulator speed, as name=value lines:
#   events_per_second=  simulated events per wall second (48-node run, one core)
#   quickstart_wall_s=  wall seconds of scenarios/quickstart.yaml
#   node48_wall_s=      wall seconds of the 48-node DS660B offline scenario, 1,000 agents
#   node48_peak_mib=    its peak resident memory
#   startup_ms=         median wall milliseconds of `dualpath --version` (21 runs):
#                       what every command pays before its work
#   startup_peak_mib=   its peak resident memory
# Targets (issue 2): >= 2e6 events/s, 48 nodes in < 60 s and < 2 GiB;
# (issue 9) startup under 50 ms and 20 MiB, CUDA present or not.
#   bash scripts/bench-sim.sh            full
#   bash scripts/bench-sim.sh --short    CI: the 48-node cluster with 100 agents
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
DP="$BUILD_DIR/sim/dualpath"
[ -x "$DP" ] || { echo "bench-sim: build first (bash scripts/test.sh or scripts/quickstart.sh)" >&2; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
extra=()
[ "${1:-}" = "--short" ] && extra=(--set workload.synthetic.agents=100)

run() {  # NAME SCENARIO ARGS...
  local name="$1" scen="$2"; shift 2
  /usr/bin/time -f "%e %M" -o "$T/time" "$DP" run "$scen" -o "$T/$name.h5" -q "$@" >"$T/$name.out"
  read -r wall kib <"$T/time"
  echo "${name}_wall_s=$wall"
  echo "${name}_peak_mib=$((kib / 1024))"
}

# start-up: the median of 21 runs (bash's microsecond clock around each)
for i in $(seq 21); do
  t0=$EPOCHREALTIME; "$DP" --version >/dev/null; t1=$EPOCHREALTIME
  echo "$t0 $t1"
done | awk '{ print ($2 - $1) * 1000 }' | sort -n | awk '{ v[NR] = $1 } END { printf "startup_ms=%.1f\n", v[(NR + 1) / 2] }'
/usr/bin/time -f "%M" -o "$T/time" "$DP" --version >/dev/null
echo "startup_peak_mib=$(awk '{ printf "%.1f", $1 / 1024 }' "$T/time")"

run quickstart "$ROOT/scenarios/quickstart.yaml"
run node48 "$ROOT/scenarios/bench/ds660b-48node.yaml" "${extra[@]}"
line="$(grep -E "^  simulated .* events" "$T/node48.out")"
events="$(sed -E 's/.* wall, ([0-9]+) events.*/\1/' <<<"$line")"
wall="$(sed -E 's/.* in ([0-9.]+) s wall.*/\1/' <<<"$line")"
echo "node48_events=$events"
awk -v e="$events" -v w="$wall" 'BEGIN { printf "events_per_second=%.0f\n", (w > 0 ? e / w : 0) }'
