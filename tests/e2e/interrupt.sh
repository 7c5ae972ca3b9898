#!/usr/bin/env bash
# Interruption end to end: SIGINT or SIGTERM during a run, whether it lands
# in the event loop or while the workload is still being built, stops the
# run, writes the results so far marked incomplete (attribute complete = 0),
# exits 128 + the signal, and leaves no temporary file; kill -9 leaves no
# file under the final name; a results file that cannot be written leaves
# nothing behind.
#
# Nothing here races a sleep against the program (tests/e2e/lib/hooks.sh:
# it stops at a chosen point and waits for the signal). The runs are
# started with & from this non-interactive shell, so they begin with SIGINT
# ignored, as any background job of a script does: the program must handle
# it anyway.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
source "$ROOT/tests/e2e/lib/hooks.sh"
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

SCEN="$ROOT/tests/data/small.yaml"   # 2,845 events: event 1500 is mid-run

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

# SIGNAL NAME WHERE: run until WHERE (start: before the scenario is even
# read; event=N: the Nth simulated event), signal it there, check what it left.
interrupt() {
  local sig="$1" name="$2" where="$3" rc
  DUALPATH_TEST_WAIT="$where" "$DP" run "$SCEN" -q -o "$T/$name.h5" >"$T/$name.out" 2>"$T/$name.err" &
  local pid=$!
  wait_ready "$pid" "$T/$name.err" && ok || { bad "$name: never reached $where"; cat "$T/$name.err"; }
  kill -s "$sig" "$pid" 2>/dev/null
  wait "$pid"; rc=$?
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

interrupt INT sigint event=1500
interrupt TERM sigterm event=1500
interrupt INT sigint_build start
interrupt TERM sigterm_build start
# a signal before the first event: nothing simulated, and the summary says so
grep -q "interrupted at simulated t=0.000 s" "$T/sigint_build.err" && ok || { bad "build: not stopped at t=0"; cat "$T/sigint_build.err"; }

# The interrupted summary holds together: one time basis (the instant of the
# interruption, for the header, the utilisations and the file), no job
# completion time, and session figures over the sessions that finished only.
t="$(sed -nE 's/.*interrupted at simulated t=([0-9.]+) s.*/\1/p' "$T/sigint.err")"
t1="$(printf '%.1f' "$t")"
grep -q "^INCOMPLETE interrupted at simulated t=$t1 s" "$T/sigint.out" && ok || { bad "summary: no INCOMPLETE line at t=$t1"; cat "$T/sigint.out"; }
grep -q "(utilisation over $t1 s)" "$T/sigint.out" && ok || bad "summary: utilisation not over the $t1 s simulated"
grep -qE "job completion time +not reached" "$T/sigint.out" && ok || bad "summary: a job completion time for an interrupted run"
grep -qE "session time \(mean\) .*\(2 of 6 sessions finished" "$T/sigint.out" && ok || { bad "summary: sessions finished"; grep session "$T/sigint.out"; }
if [ $have_h5py = 1 ]; then
  /usr/bin/python3 - "$T/sigint.h5" "$t" <<'PY' && ok || bad "interrupted results file: figures over unfinished sessions or another time basis"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
t, s, r = float(sys.argv[2]), f["summary"].attrs, f["requests"][:]
assert abs(s["elapsed_s"] - t) <= 5e-4 and f["timeseries/time"][-1] == s["elapsed_s"], (s["elapsed_s"], t)
assert s["makespan_s"] == 0
ended = set(r["session"][r["session_end"] == 1])
assert s["sessions"] == len(ended) == 2 and s["sessions_total"] == 6
spans = [r["t_done"][r["session"] == k].max() - r["t_issue"][r["session"] == k].min() for k in ended]
assert abs(s["session_time_mean_s"] - sum(spans) / len(spans)) < 1e-9
PY
fi

# compare keeps what it did: the policy it was simulating, marked incomplete
DUALPATH_TEST_WAIT=event=1500 "$DP" compare "$SCEN" -q -o "$T/cmp" >"$T/cmp.out" 2>"$T/cmp.err" &
pid=$!
wait_ready "$pid" "$T/cmp.err" && ok || bad "compare: never reached event 1500"
kill -INT "$pid"; wait "$pid"; rc=$?
[ $rc -eq 130 ] && ok || { bad "compare: exit $rc, expected 130"; cat "$T/cmp.err"; }
[ -f "$T/cmp-basic.h5" ] && [ "$(complete_attr "$T/cmp-basic.h5")" != 1 ] && ok || bad "compare: no incomplete cmp-basic.h5"
[ ! -e "$T/cmp-dualpath.h5" ] && ok || bad "compare: a policy after the interruption was run"
grep -qE "^basic .*\(interrupted: so far\)" "$T/cmp.out" && ok || { bad "compare: no table row marked interrupted"; cat "$T/cmp.out"; }
grep -q "not simulated: dualpath, oracle" "$T/cmp.err" && ok || { bad "compare: message"; cat "$T/cmp.err"; }

# sweep: SIGTERM keeps the points so far, in a table marked incomplete
cp "$ROOT/tests/data/sweep_max_rate.yaml" "$T/sw.yaml"
DUALPATH_TEST_WAIT=point=2 "$DP" sweep "$T/sw.yaml" -q --no-plot -o "$T/sw" >"$T/sw.out" 2>"$T/sw.err" &
pid=$!
wait_ready "$pid" "$T/sw.err" && ok || bad "sweep: never reached point 2"
kill -TERM "$pid"; wait "$pid"; rc=$?
[ $rc -eq 143 ] && ok || { bad "sweep: exit $rc, expected 143"; cat "$T/sw.err"; }
[ -f "$T/sw.csv" ] && [ "$(tail -n +2 "$T/sw.csv" | wc -l)" -eq 2 ] && [ "$(complete_attr "$T/sw.h5")" != 1 ] && ok ||
  bad "sweep: no table of the 2 points so far marked incomplete"

# kill -9 cannot be caught: whatever it interrupts, no file under the final name
DUALPATH_TEST_WAIT=event=1500 "$DP" run "$SCEN" -q -o "$T/k9.h5" >/dev/null 2>"$T/k9.err" &
pid=$!
wait_ready "$pid" "$T/k9.err" && ok || bad "kill -9: never reached event 1500"
kill -9 "$pid"; wait "$pid" 2>/dev/null
[ ! -e "$T/k9.h5" ] && ok || bad "kill -9: a file under the final name"

# an unwritable destination: an error, nothing left (not even a temporary)
"$DP" run "$SCEN" -q -o "$T/missing/dir/x.h5" >/dev/null 2>"$T/nodir.err"
[ $? -eq 1 ] && ok || bad "unwritable output: exit status"
[ ! -e "$T/missing" ] && ok || bad "unwritable output: something was created"

# a short run still finishes complete (the per-event check costs nothing)
"$DP" run "$SCEN" -q -o "$T/full.h5" >/dev/null 2>&1 && ok || bad "short run"
c="$(complete_attr "$T/full.h5")"
[ "$c" = "1" ] || [ "$c" = "?" ] && ok || bad "short run: complete = '$c'"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
