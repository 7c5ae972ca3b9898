#!/usr/bin/env bash
# dualpath sweep on one machine: the table does not depend on -j (byte for
# byte, CSV and HDF5), each goal prints its answer, --list shows the grid,
# and mistakes in the sweep: section name the file, the line and the key.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

base() {  # a small online scenario: 1-2 s of simulation per sweep
cat <<'YAML'
name: e2e
seed: 3
model: ds27b
hardware: hopper
cluster: {prefill_engines: 1, decode_engines: 1, prefill_gpus: 8, decode_gpus: 8}
workload:
  synthetic: {rate: 20, duration_s: 20, turns_mean: 5, prompt_tokens_mean: 8000,
              append_tokens_mean: 300, output_tokens_mean: 60, think_s_mean: 0.3}
slo: {ttft_ms: 1000, tpot_ms: 50}
YAML
}
{ base; cat <<'YAML'
sweep:
  vary:
    cluster.prefill_engines: [1, 2]
    policy.name: [basic, dualpath]
  goal: {kind: max_rate, rate_lo: 1, rate_hi: 64, tolerance: 0.1}
YAML
} >"$T/rate.yaml"
{ base; cat <<'YAML'
sweep:
  vary:
    cluster.prefill_engines: [1, 2, 3]
    cluster.decode_engines: [1, 2]
  goal: {kind: min_gpus, slo_attainment: 0.95}
YAML
} >"$T/gpus.yaml"

for s in rate gpus; do
  "$DP" sweep "$T/$s.yaml" -j 1 -o "$T/${s}1" --no-plot -q >"$T/${s}1.out" 2>&1 && ok || { bad "$s -j 1"; cat "$T/${s}1.out"; }
  "$DP" sweep "$T/$s.yaml" -j 2 -o "$T/${s}2" --no-plot -q >"$T/${s}2.out" 2>&1 && ok || { bad "$s -j 2"; cat "$T/${s}2.out"; }
  cmp -s "$T/${s}1.csv" "$T/${s}2.csv" && ok || bad "$s: -j 2 CSV differs from -j 1"
  cmp -s "$T/${s}1.h5" "$T/${s}2.h5" && ok || bad "$s: -j 2 HDF5 differs from -j 1"
done
grep -q "^largest workload.synthetic.rate within SLO: " "$T/rate1.out" && ok || { bad "max_rate answer"; cat "$T/rate1.out"; }
grep -q "^least GPUs within SLO: " "$T/gpus1.out" && ok || { bad "min_gpus answer"; cat "$T/gpus1.out"; }
# max_rate: 4 configurations, each a chain of probes, one row per probe
[ "$(cut -d, -f2 "$T/rate1.csv" | tail -n +2 | sort -u | wc -l)" -eq 4 ] && ok || bad "max_rate rows"
# min_gpus: the answer's size and below are in the table, nothing above it
g="$(sed -nE 's/^least GPUs within SLO: ([0-9]+) .*/\1/p' "$T/gpus1.out" | head -1)"
max="$(cut -d, -f3 "$T/gpus1.csv" | tail -n +2 | sort -n | tail -1)"
[ -n "$g" ] && [ "$max" -eq "$g" ] && ok || bad "min_gpus table beyond the answer ($max > $g)"

"$DP" sweep "$T/rate.yaml" --list >"$T/list" 2>&1 && grep -q "^4 configurations, goal max_rate" "$T/list" && ok || { bad list; cat "$T/list"; }
"$DP" sweep "$T/rate.yaml" -j 1 -o "$T/rate1" --no-plot -q >"$T/out" 2>&1 && bad "reran over a journal" || ok
grep -q -- "--resume" "$T/out" && ok || bad "journal message"
"$DP" sweep "$T/rate.yaml" -j 1 -o "$T/rate1" --no-plot -q --resume >"$T/out" 2>&1 && ok || bad "resume a finished sweep"
grep -q "0 simulated" "$T/out" && ok || { bad "resume of a finished sweep simulated again"; cat "$T/out"; }

# errors name file:line and key
{ base; printf 'sweep:\n  vary:\n    cluster.prefil_engines: [1, 2]\n'; } >"$T/bad1.yaml"
"$DP" sweep "$T/bad1.yaml" >"$T/out" 2>&1 && bad "typo accepted" || ok
grep -q "bad1.yaml:12: unknown key 'cluster.prefil_engines' (did you mean 'cluster.prefill_engines'?)" "$T/out" && ok || { bad "typo message"; cat "$T/out"; }
{ base; printf 'sweep:\n  vary: {policy.name: [basic]}\n  goals: {kind: grid}\n'; } >"$T/bad2.yaml"
"$DP" sweep "$T/bad2.yaml" >"$T/out" 2>&1 && bad "unknown sweep key accepted" || ok
grep -q "bad2.yaml:12: key 'sweep.goals'" "$T/out" && ok || { bad "unknown sweep key message"; cat "$T/out"; }
"$DP" sweep "$ROOT/tests/data/small.yaml" >"$T/out" 2>&1 && bad "no sweep section accepted" || ok
grep -q "no sweep: section" "$T/out" && ok || { bad "no sweep message"; cat "$T/out"; }
# the worked examples parse
for f in "$ROOT"/scenarios/planning/*.yaml; do
  "$DP" sweep "$f" --list >"$T/out" 2>&1 && ok || { bad "example $f"; cat "$T/out"; }
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
