#!/usr/bin/env bash
# How the simulator grows with the workload, as name=value lines. Runs
# scenarios/bench/scale-10k.yaml (10,000 GPUs, 100,000 agents) at 1/8, 1/4,
# 1/2 and all of its agents, on two axes:
#   scaled_*  the cluster scaled with the agents (625 PE + 625 DE engines of
#             8 GPUs at 100k agents, 78 + 78 at 12.5k)
#   fixed_*   the whole 10,000-GPU cluster at every point
# For each point: <axis>_<agents>_{gpus,wall_s,peak_mib,events,events_per_second}
# (wall and peak resident memory of the whole command: workload, run and
# results file). Then least-squares log-log slopes over the points:
#   <axis>_mem_vs_agents_exponent     1 = memory linear in agents
#   <axis>_time_vs_events_exponent    1 = time linear in events; n log n over
#                                     this 8x range reads about 1.1
#   <axis>_time_vs_agents_exponent
# Target (issue: hardening): memory no worse than linear in agents, time no
# worse than n log n in events.
#   bash scripts/bench-scale.sh            full curve (~5 minutes on 2 cores)
#   bash scripts/bench-scale.sh --short    CI: two small points, scaled axis only
#   AGENTS="12500 25000" AXES=fixed bash scripts/bench-scale.sh   pick points
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
DP="$BUILD_DIR/sim/dualpath"
[ -x "$DP" ] || { echo "bench-scale: build first (bash scripts/test.sh or scripts/quickstart.sh)" >&2; exit 1; }
SCEN="$ROOT/scenarios/bench/scale-10k.yaml"
FULL_AGENTS=100000
FULL_ENGINES=625          # per side, at FULL_AGENTS
GPUS_PER_ENGINE=8
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT

AGENTS="${AGENTS:-12500 25000 50000 100000}"
AXES="${AXES:-scaled fixed}"
if [ "${1:-}" = "--short" ]; then
  AGENTS="1250 2500"
  AXES="scaled"
fi

point() {  # AXIS AGENTS -> name=value lines; appends "agents events wall kib" to $T/AXIS
  local axis="$1" n="$2" eng
  if [ "$axis" = scaled ]; then
    eng=$(( (FULL_ENGINES * n + FULL_AGENTS / 2) / FULL_AGENTS ))
    [ "$eng" -ge 1 ] || eng=1
  else
    eng=$FULL_ENGINES
  fi
  local out="$T/$axis.$n"
  /usr/bin/time -f "%e %M" -o "$out.time" "$DP" run "$SCEN" -q -o "$out.h5" \
      --set workload.synthetic.agents="$n" \
      --set cluster.prefill_engines="$eng" --set cluster.decode_engines="$eng" >"$out.txt"
  local wall kib line events
  read -r wall kib <"$out.time"
  line="$(grep -E "^  simulated .* events" "$out.txt")"
  events="$(sed -E 's/.* wall, ([0-9]+) events.*/\1/' <<<"$line")"
  echo "${axis}_${n}_gpus=$((2 * eng * GPUS_PER_ENGINE))"
  echo "${axis}_${n}_wall_s=$wall"
  echo "${axis}_${n}_peak_mib=$((kib / 1024))"
  echo "${axis}_${n}_events=$events"
  awk -v e="$events" -v w="$wall" -v p="${axis}_${n}" \
      'BEGIN { printf "%s_events_per_second=%.0f\n", p, (w > 0 ? e / w : 0) }'
  echo "$n $events $wall $kib" >>"$T/$axis"
  rm -f "$out.h5"
}

slope() {  # FILE XCOL YCOL -> least-squares slope of log y on log x
  awk -v xc="$2" -v yc="$3" '
    { x = log($xc); y = log($yc); n++; sx += x; sy += y; sxx += x * x; sxy += x * y }
    END { d = n * sxx - sx * sx; printf "%.2f", (n > 1 && d != 0 ? (n * sxy - sx * sy) / d : 0) }' "$1"
}

for axis in $AXES; do
  : >"$T/$axis"
  for n in $AGENTS; do
    point "$axis" "$n"
  done
  echo "${axis}_mem_vs_agents_exponent=$(slope "$T/$axis" 1 4)"
  echo "${axis}_time_vs_events_exponent=$(slope "$T/$axis" 2 3)"
  echo "${axis}_time_vs_agents_exponent=$(slope "$T/$axis" 1 3)"
done
