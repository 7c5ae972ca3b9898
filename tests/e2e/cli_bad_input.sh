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
expect_fail negative_bw   "negative_bw.yaml:5: field 'snic_bw'" run "$B/negative_bw.yaml"
expect_fail zero_bw       "zero_bw.yaml:5: field 'cnic_bw'" run "$B/zero_bw.yaml"
expect_fail missing_model "missing_model.yaml:2: field 'model'" run "$B/missing_model.yaml"
expect_fail yaml_syntax   "yaml_syntax.yaml:[0-9]+: YAML syntax error" run "$B/yaml_syntax.yaml"
expect_fail missing_trace "no_such_trace.jsonl: cannot open" run "$B/missing_trace.yaml"
expect_fail unknown_policy "field 'policy.name': unknown policy 'dualpth'" run "$B/unknown_policy.yaml"
expect_fail missing_scenario "no_such.yaml: cannot open" run "$T/no_such.yaml"
expect_fail bad_set       "--set: field 'cluster.prefill_engines'" run "$ROOT/scenarios/quickstart.yaml" --set cluster.prefill_engines=-1
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
