#!/usr/bin/env bash
# scripts/validate-testbed.sh cannot pass by default: a missing folder or a
# missing output of a step it was asked to check is a FAIL (exit 1), a bad
# figure is a FAIL, and the recorded H100 run (hw/results/) passes, in full
# and step by step.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
V="$ROOT/scripts/validate-testbed.sh"
R="$ROOT/hw/results/h100-2026-11-25"

bash "$V" "$R/final" >"$T/out" 2>&1 && ok || { bad "the recorded run fails"; cat "$T/out"; }
[ "$(grep -c '^PASS' "$T/out")" -eq 11 ] && ! grep -q '^FAIL' "$T/out" && ok || { bad "recorded run: not 11 PASS"; cat "$T/out"; }
bash "$V" "$R/run1" bench calibrate store >"$T/out" 2>&1 && ok || { bad "the first call's steps fail"; cat "$T/out"; }

mkdir "$T/empty"
bash "$V" "$T/empty" >"$T/out" 2>&1 && bad "an empty folder passes" || ok
[ "$(grep -c '^FAIL' "$T/out")" -eq 4 ] && ! grep -qE '^(PASS|SKIP)' "$T/out" && ok || { bad "empty folder: not 4 FAIL"; cat "$T/out"; }
bash "$V" "$T/none" >"$T/out" 2>&1 && bad "a missing folder passes" || ok
bash "$V" "$R/run1" >"$T/out" 2>&1 && bad "a run without hwrun-*.txt passes when run was asked for" || ok
grep -q "^FAIL  no hwrun" "$T/out" && ok || bad "no FAIL line for the missing run step"
bash "$V" "$R/final" bench nonsense >"$T/out" 2>&1 && bad "an unknown step passes" || ok

# a figure below its target
cp -r "$R/final" "$T/bad"
sed -i 's/^h2d_block_over_bulk=.*/h2d_block_over_bulk=0.5/' "$T/bad/bench.txt"
bash "$V" "$T/bad" bench >"$T/out" 2>&1 && bad "h2d 0.5 passes" || ok
grep -q "^FAIL  h2d block/bulk 0.5 < 0.90" "$T/out" && ok || { bad "h2d 0.5: message"; cat "$T/out"; }
sed -i '/^d2h_block_over_bulk=/d' "$T/bad/bench.txt"
bash "$V" "$T/bad" bench >"$T/out" 2>&1
grep -q "^FAIL  d2h block/bulk: not in bench.txt" "$T/out" && ok || { bad "a figure missing from bench.txt is not a FAIL"; cat "$T/out"; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
