#!/usr/bin/env bash
# Interruption end to end: SIGINT or SIGTERM during a run stops it at the
# next event, writes the results so far marked incomplete (attribute
# complete = 0), exits 128 + the signal, and leaves no temporary file;
# kill -9 leaves no file under the final name; a results file that cannot
# be written leaves nothing behind.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

# A run of tens of seconds (release build) whose workload builds in well
# under a second, so the signal lands in the event loop.
LONG=(--set workload.synthetic.agents=20000 --set workload.synthetic.turns_mean=40 -q)
SCEN="$ROOT/scenarios/quickstart.yaml"

have_h5py=0
/usr/bin/python3 -c "import h5py" 2>/dev/null && have_h5py=1
complete_attr() {  # FILE -> prints the root attribute 'complete'
  if [ $have_h5py = 1 ]; then
    /usr/bin/python3 -c "import sys, h5py; print(int(h5py.File(sys.argv[1], 'r').attrs['complete']))" "$1"
  elif command -v h5dump >/dev/null; then
    h5dump -a /complete "$1" | grep -oE '\(0\): [0-9]+' | awk '{print $2}'
  else
    echo "?"
  fi
}

# SIGNAL NAME: start a long run, signal it after DELAY s, check what it left.
# A signal that lands before the event loop (workload still building: the
# default action kills the process, no results) is retried with a longer delay.
interrupt() {
  local sig="$1" name="$2" delay=1 rc tries=0
  while :; do
    tries=$((tries + 1))
    rm -f "$T/$name".h5*
    "$DP" run "$SCEN" "${LONG[@]}" -o "$T/$name.h5" >"$T/$name.out" 2>"$T/$name.err" &
    local pid=$!
    sleep "$delay"
    kill -s "$sig" "$pid" 2>/dev/null
    wait "$pid"; rc=$?
    if [ -f "$T/$name.h5" ] || [ $tries -ge 3 ]; then break; fi
    delay=$((delay + 1))
  done
  local want=$((128 + $(kill -l "$sig")))
  [ "$rc" -eq "$want" ] && ok || { bad "$name: exit $rc, expected $want"; cat "$T/$name.err"; }
  [ -f "$T/$name.h5" ] && ok || bad "$name: no results file"
  grep -q "marked incomplete" "$T/$name.out" && ok || bad "$name: summary does not say incomplete"
  grep -q "interrupted at simulated t=" "$T/$name.err" && ok || bad "$name: no message on stderr"
  if [ -f "$T/$name.h5" ]; then
    local c; c="$(complete_attr "$T/$name.h5")"
    [ "$c" = "0" ] || [ "$c" = "?" ] && ok || bad "$name: attribute complete = '$c', expected 0"
  fi
  ls "$T" | grep -q '\.tmp\.' && bad "$name: temporary file left: $(ls "$T")" || ok
}

interrupt INT sigint
interrupt TERM sigterm

# kill -9 cannot be caught: whatever it interrupts, no file under the final name
"$DP" run "$SCEN" "${LONG[@]}" -o "$T/k9.h5" >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 "$pid"; wait "$pid" 2>/dev/null
[ ! -e "$T/k9.h5" ] && ok || bad "kill -9: a file under the final name"

# an unwritable destination: an error, nothing left (not even a temporary)
"$DP" run "$ROOT/tests/data/small.yaml" -q -o "$T/missing/dir/x.h5" >/dev/null 2>"$T/nodir.err"
[ $? -eq 1 ] && ok || bad "unwritable output: exit status"
[ ! -e "$T/missing" ] && ok || bad "unwritable output: something was created"

# a short run still finishes complete (the per-event check costs nothing)
"$DP" run "$ROOT/tests/data/small.yaml" -q -o "$T/full.h5" >/dev/null 2>&1 && ok || bad "short run"
c="$(complete_attr "$T/full.h5")"
[ "$c" = "1" ] || [ "$c" = "?" ] && ok || bad "short run: complete = '$c'"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
