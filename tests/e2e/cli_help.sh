#!/usr/bin/env bash
# Every sub-command answers --help with its own usage on stdout (exit 0,
# nothing on stderr) and --version with the version; a wrong use of one
# prints its usage on stderr and exits 2. `dualpath hw` runs the separate
# program dualpath-hw when the build has one and says clearly when it has
# not: the dualpath binary itself never links CUDA (so every other command
# starts without loading cuBLAS).
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

for cmd in run compare sweep trace "trace stats" "trace gen" policies keys; do
  # shellcheck disable=SC2086
  "$DP" $cmd --help >"$T/out" 2>"$T/err"; rc=$?
  [ $rc -eq 0 ] && ok || bad "$cmd --help: exit $rc"
  head -1 "$T/out" | grep -q "^usage: dualpath $cmd" && ok || { bad "$cmd --help: not its own usage:"; head -2 "$T/out"; }
  [ ! -s "$T/err" ] && ok || { bad "$cmd --help: stderr:"; cat "$T/err"; }
  # shellcheck disable=SC2086
  [ "$("$DP" $cmd --version 2>&1)" = "$("$DP" --version)" ] && ok || bad "$cmd --version"
done
"$DP" run --help | grep -q -- "--trace FILE" && ok || bad "run --help lacks run's options"
"$DP" --help | grep -q "each answers --help" && ok || bad "global help"
# wrong use: the command's own usage on stderr, exit 2
for cmd in "run" "trace stats" "trace gen" "policies extra" "keys extra" "trace bogus"; do
  # shellcheck disable=SC2086
  "$DP" $cmd >"$T/out" 2>"$T/err"; rc=$?
  [ $rc -eq 2 ] && ok || bad "'$cmd': exit $rc, expected 2"
  grep -q "dualpath ${cmd%% *}" "$T/err" && ok || { bad "'$cmd': no usage on stderr"; cat "$T/err"; }
done

# hw: a separate program; dualpath itself has no CUDA in it
"$DP" hw --help >"$T/out" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] && grep -q "^usage: dualpath hw" "$T/out" && ok || { bad "hw --help: exit $rc"; cat "$T/out" "$T/err"; }
HW="$(dirname "$DP")/../hw/dualpath-hw"
if [ -x "$HW" ]; then
  grep -q "calibrate" "$T/out" && ok || bad "hw --help did not reach dualpath-hw"
else
  grep -q "this build has no hardware shim" "$T/out" && ok || bad "hw --help: no word on the missing shim"
  "$DP" hw bench >/dev/null 2>"$T/err"; rc=$?
  [ $rc -eq 2 ] && grep -q "CUDA was not found at configure time" "$T/err" && ok || bad "hw bench without CUDA: exit $rc"
fi
if ldd "$DP" | grep -qE "libcuda|libcublas|libcudart"; then bad "dualpath links CUDA: $(ldd "$DP" | grep -E 'cuda|cublas')"; else ok; fi
if nm "$DP" 2>/dev/null | grep -qE " (cudaMalloc|cublasCreate|cudaStreamCreate)"; then bad "dualpath holds CUDA code"; else ok; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
