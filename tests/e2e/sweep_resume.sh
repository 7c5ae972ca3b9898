#!/usr/bin/env bash
# An interrupted sweep loses nothing: killed (SIGKILL) or stopped (SIGINT)
# in the middle, the journal keeps every finished point, and --resume
# completes the same table as an uninterrupted run, byte for byte, with no
# point journaled twice and none simulated again.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
source "$ROOT/tests/e2e/lib/hooks.sh"
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

cp "$ROOT/tests/data/sweep_max_rate.yaml" "$T/s.yaml"
points() { local n; n="$(grep -c '^P' "$1" 2>/dev/null)"; echo "${n:-0}"; }

"$DP" sweep "$T/s.yaml" -j 2 -o "$T/ref" --no-plot -q >"$T/ref.out" 2>&1 && ok || { bad reference; cat "$T/ref.out"; }
total="$(points "$T/ref.journal")"

# interrupt once 3 points are journaled (the sweep waits there for the
# signal: tests/e2e/lib/hooks.sh); $2 is the signal
interrupt() {  # PREFIX SIGNAL
  DUALPATH_TEST_WAIT=point=3 "$DP" sweep "$T/s.yaml" -j 1 -o "$T/$1" --no-plot -q >"$T/$1.out" 2>&1 &
  local pid=$!
  wait_ready "$pid" "$T/$1.out" || bad "$2: the sweep never reached its third point"
  kill -"$2" "$pid" 2>/dev/null
  wait "$pid"; echo $? >"$T/$1.rc"
}

for sig in KILL INT; do
  p="k$sig"
  interrupt "$p" "$sig"
  kept="$(points "$T/$p.journal")"
  [ "$kept" -eq 3 ] && [ "$kept" -lt "$total" ] && ok || bad "$sig: $kept of $total points kept (want 3: the sweep must be cut in the middle)"
  if [ "$sig" = INT ]; then
    [ "$(cat "$T/$p.rc")" -eq 130 ] && ok || bad "SIGINT exit status $(cat "$T/$p.rc")"
    grep -q -- "--resume" "$T/$p.out" && ok || { bad "SIGINT message"; cat "$T/$p.out"; }
  fi
  [ -e "$T/$p.csv" ] && bad "$sig: a table was written for an unfinished sweep" || ok
  gone "sweep $T/s.yaml" && ok || bad "$sig: workers left running"
  "$DP" sweep "$T/s.yaml" -j 1 -o "$T/$p" --no-plot -q --resume >"$T/$p.out2" 2>&1 && ok || { bad "$sig: resume"; cat "$T/$p.out2"; }
  cmp -s "$T/ref.csv" "$T/$p.csv" && ok || bad "$sig: resumed table differs from the uninterrupted one"
  cmp -s "$T/ref.h5" "$T/$p.h5" && ok || bad "$sig: resumed HDF5 differs"
  # nothing lost, nothing twice: every point once in the journal ...
  [ "$(points "$T/$p.journal")" -eq "$total" ] && ok || bad "$sig: journal has $(points "$T/$p.journal") points, want $total"
  [ -z "$(grep '^P' "$T/$p.journal" | cut -f2 | sort | uniq -d)" ] && ok || bad "$sig: a point journaled twice"
  # ... and the kept ones were not simulated again
  grep -q "^points     $((total - kept)) simulated, $kept from the journal" "$T/$p.out2" && ok || { bad "$sig: resume recomputed"; grep '^points' "$T/$p.out2"; }
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
