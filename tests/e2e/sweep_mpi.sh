#!/usr/bin/env bash
# dualpath sweep under mpirun: 2 ranks on this machine give the same table
# as a local run, byte for byte, with points computed on both ranks; a
# killed rank leaves a journal that --resume completes to the same table.
# Skipped (exit 77: ctest reports it as skipped, not passed) when the build
# has no MPI or mpirun is missing.
set -u
DP="$1"; ROOT="$2"
if ! "$DP" sweep --help | grep -q "MPI in this build: yes"; then
  echo "SKIP: this dualpath was built without MPI (DP_WITH_MPI; apt-get install libopenmpi-dev openmpi-bin)"; exit 77
fi
command -v mpirun >/dev/null || { echo "SKIP: no mpirun (apt-get install openmpi-bin)"; exit 77; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
source "$ROOT/tests/e2e/lib/hooks.sh"
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
# root in containers; shared memory without ptrace (CMA) that containers often forbid
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
MPIRUN=(mpirun -np 2)

cp "$ROOT/tests/data/sweep_max_rate.yaml" "$T/s.yaml"
points() { local n; n="$(grep -c '^P' "$1" 2>/dev/null)"; echo "${n:-0}"; }

"$DP" sweep "$T/s.yaml" -j 1 -o "$T/local" --no-plot -q >"$T/local.out" 2>&1 && ok || { bad local; cat "$T/local.out"; }
for j in 1 2; do
  "${MPIRUN[@]}" "$DP" sweep "$T/s.yaml" -j $j -o "$T/mpi$j" --no-plot -q >"$T/mpi$j.out" 2>&1 && ok || { bad "mpirun -j $j"; cat "$T/mpi$j.out"; }
  cmp -s "$T/local.csv" "$T/mpi$j.csv" && ok || bad "2 ranks -j $j: CSV differs from the local run"
  cmp -s "$T/local.h5" "$T/mpi$j.h5" && ok || bad "2 ranks -j $j: HDF5 differs from the local run"
  grep -qE "^points by rank: 0:[0-9]+ 1:[1-9][0-9]*$" "$T/mpi$j.out" && ok || { bad "rank 1 computed nothing (-j $j)"; grep "^points" "$T/mpi$j.out"; }
done

# kill rank 1 in the middle (rank 0 waits after its third point:
# tests/e2e/lib/hooks.sh): mpirun ends the job, the journal on rank 0 stays
DUALPATH_TEST_WAIT=point=3 "${MPIRUN[@]}" "$DP" sweep "$T/s.yaml" -j 1 -o "$T/k" --no-plot -q >"$T/k.out" 2>&1 &
mpipid=$!
wait_ready "$mpipid" "$T/k.out" || bad "the sweep never reached its third point"
rank1=""
for p in $(pgrep -P "$mpipid"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && rank1=$p
done
[ -n "$rank1" ] && ok || bad "rank 1 not found under mpirun"
[ -n "$rank1" ] && kill -KILL "$rank1"
wait "$mpipid" && bad "mpirun succeeded with a killed rank" || ok
kept="$(points "$T/k.journal")"
total="$(points "$T/local.journal")"
[ "$kept" -eq 3 ] && [ "$kept" -lt "$total" ] && ok || bad "$kept of $total points kept (want 3)"
gone "sweep $T/s.yaml" && ok || bad "processes left running after the kill"
"${MPIRUN[@]}" "$DP" sweep "$T/s.yaml" -j 1 -o "$T/k" --no-plot -q --resume >"$T/k.out2" 2>&1 && ok || { bad "resume under mpirun"; cat "$T/k.out2"; }
cmp -s "$T/local.csv" "$T/k.csv" && ok || bad "resumed table differs from the local run"
[ "$(points "$T/k.journal")" -eq "$total" ] && ok || bad "journal has $(points "$T/k.journal") points, want $total"
grep -q "^points     $((total - kept)) simulated, $kept from the journal" "$T/k.out2" && ok || { bad "resume recomputed"; grep '^points' "$T/k.out2"; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
