#!/usr/bin/env bash
# Bad input through the command line: one error line naming file, line and
# field on stderr, a non-zero exit, and no results file left behind.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0

expect_fail() {   # NAME PATTERN ARGS...
  local name="$1" pat="$2"; shift 2
  rm -f "$T/out.h5"
  "$DP" "$@" -o "$T/out.h5" -q >"$T/stdout" 2>"$T/stderr"; local rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL $name: exit 0"; fail=$((fail+1)); return; fi
  if ! grep -qE -e "$pat" "$T/stderr"; then echo "FAIL $name: stderr lacks /$pat/:"; cat "$T/stderr"; fail=$((fail+1)); return; fi
  if [ "$(wc -l <"$T/stderr")" -ne 1 ]; then echo "FAIL $name: not one line:"; cat "$T/stderr"; fail=$((fail+1)); return; fi
  if ls "$T"/out.h5* >/dev/null 2>&1; then echo "FAIL $name: a results file was left"; fail=$((fail+1)); return; fi
  pass=$((pass+1))
}

B="$ROOT/tests/data/bad_scenarios"
expect_fail unknown_key   "unknown_key.yaml:4: unknown key 'cluster.prefil_engines'" run "$B/unknown_key.yaml"
expect_fail wrong_type    "wrong_type.yaml:4: field 'cluster.prefill_engines'" run "$B/wrong_type.yaml"
# a key of the hardware: (or model:) section is named as the scenario writes it,
# and the range message closes its parenthesis
expect_fail negative_bw   "negative_bw.yaml:5: field 'hardware.snic_bw': must be > 0, got -5e\+10 \(storage NIC bytes/s per node\)$" run "$B/negative_bw.yaml"
expect_fail zero_bw       "zero_bw.yaml:5: field 'hardware.cnic_bw': must be > 0, got 0 \([^()]*\)$" run "$B/zero_bw.yaml"
expect_fail missing_model "missing_model.yaml:2: field 'model'" run "$B/missing_model.yaml"
expect_fail yaml_syntax   "yaml_syntax.yaml:[0-9]+: YAML syntax error" run "$B/yaml_syntax.yaml"
expect_fail missing_trace "no_such_trace.jsonl: cannot open" run "$B/missing_trace.yaml"
expect_fail unknown_policy "field 'policy.name': unknown policy 'dualpth'" run "$B/unknown_policy.yaml"
expect_fail missing_scenario "no_such.yaml: cannot open" run "$T/no_such.yaml"
expect_fail bad_set       "--set: field 'cluster.prefill_engines'" run "$ROOT/scenarios/quickstart.yaml" --set cluster.prefill_engines=-1
# --set is blamed for what --set got wrong, not the scenario file
expect_fail set_policy    "^dualpath: --set: field 'policy.name': unknown policy 'bogus'" run "$ROOT/scenarios/quickstart.yaml" --set policy.name=bogus
expect_fail set_hw        "^dualpath: --set: field 'hardware.snic_bw': must be > 0" run "$ROOT/scenarios/quickstart.yaml" --set hardware.snic_bw=-1
expect_fail set_model_typo "^dualpath: --set: unknown key 'model.layers' \(did you mean 'model.n_layers'\?\)" run "$ROOT/scenarios/quickstart.yaml" --set model.layers=3
# a record cut short in the middle of a trace: its line, and no "end of file"
{ head -2 "$ROOT/tests/data/mooncake_head.jsonl"; echo '{"timestamp": 5, "input_length": 100, "output_length": 3, "hash_ids": [1, 2'
  sed -n 3,5p "$ROOT/tests/data/mooncake_head.jsonl"; } >"$T/mid.jsonl"
expect_fail trace_mid_truncated "mid.jsonl:3: truncated record at column [0-9]+: ']' expected at the end of the line" run "$ROOT/scenarios/quickstart.yaml" --trace "$T/mid.jsonl"
grep -q "end of file" "$T/stderr" && { echo "FAIL trace_mid_truncated: says end of file"; fail=$((fail+1)); }
for f in "$ROOT"/tests/data/bad/*.jsonl; do
  n="$(basename "$f" .jsonl)"
  case "$n" in blank_lines) continue ;; esac   # blank lines alone are fine
  expect_fail "trace_$n" "$(basename "$f")(:[0-9]+)?:" run "$ROOT/scenarios/quickstart.yaml" --trace "$f"
done
# a results path in a folder that does not exist: clear error, nothing left
rm -rf "$T/nodir"
"$DP" run "$ROOT/tests/data/small.yaml" -o "$T/nodir/out.h5" -q >/dev/null 2>"$T/stderr"
if [ $? -ne 0 ] && grep -q "nodir does not exist" "$T/stderr"; then pass=$((pass+1)); else echo "FAIL nodir"; cat "$T/stderr"; fail=$((fail+1)); fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
