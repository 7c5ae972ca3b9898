#!/usr/bin/env bash
# Valgrind (memcheck) on the quick start, 32 agents: any invalid access, use
# of uninitialised memory or leak (definite or possible) fails it. A second
# run takes the other exits: the dualpath policy, the invariant checker on,
# and a run cut by run.max_time_s with requests and batches in flight.
# The binary is built without CUDA and MPI (VG_BUILD_DIR, default
# build-valgrind): the simulator uses neither, and the CUDA libraries' own
# start-up trips a known glibc/valgrind false positive in dlopen's $ORIGIN
# handling that says nothing about this code.
#   bash scripts/valgrind-quickstart.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${VG_BUILD_DIR:-$ROOT/build-valgrind}"
command -v valgrind >/dev/null || { echo "valgrind-quickstart: valgrind not installed (apt-get install valgrind)" >&2; exit 2; }
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDP_WITH_CUDA=OFF \
      -DDP_WITH_MPI=OFF -DDP_WITH_VERBS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target dualpath >/dev/null
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
VG=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
    --track-origins=yes --quiet)
run() {  # NAME ARGS...
  local name="$1"; shift
  if "${VG[@]}" "$BUILD_DIR/sim/dualpath" run "$ROOT/scenarios/quickstart.yaml" \
       --set workload.synthetic.agents=32 -q -o "$T/$name.h5" "$@" >"$T/$name.out" 2>"$T/$name.err"; then
    echo "valgrind_${name}=clean"
  else
    echo "valgrind_${name}=errors"
    cat "$T/$name.err" >&2
    return 1
  fi
}
run quickstart
DUALPATH_CHECK=1 run quickstart_checked_cut --set policy.name=dualpath --set run.max_time_s=30
