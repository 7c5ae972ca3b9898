#!/usr/bin/env bash
# Run on a lent GPU machine (device tool), from the repository root, with
# what scripts/hw-build.sh gathered carried (carry: ["build-hw-carry"]):
#   bash scripts/hw-device-run.sh [bench] [calibrate] [store] [run]
#   (default: bench calibrate store)
# Writes under $OUT: machine.txt, log.txt, and per step bench.txt +
# bench16.txt, calibrate.txt + calibrated.yaml, store.txt, and for `run`
# hwrun-basic.txt, hwrun-dualpath.txt, sim.txt (the simulator on the same
# scenario). If the carried hw programs cannot start there, it rebuilds hw/
# on the machine (it has cmake and nvcc) and goes on with that build.
set -uo pipefail
OUT=${OUT:-/tmp/dp-hw-out}
mkdir -p "$OUT"
B=${B:-build-hw-carry}
steps=${*:-bench calibrate store}
exec > >(tee -a "$OUT/log.txt") 2>&1

{
  nvidia-smi --query-gpu=name,memory.total,driver_version,pcie.link.gen.current,pcie.link.width.current,clocks.sm,clocks.max.sm --format=csv
  nvidia-smi topo -m
  uname -a; nproc; free -g; df -hT .
  grep -m1 'model name' /proc/cpuinfo
} > "$OUT/machine.txt" 2>&1

# Libraries: cuBLAS from the toolkit or the pip wheel; libibverbs carried if absent.
for d in /usr/local/cuda/lib64 /usr/local/cuda-13.0/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -e "$d/libcublas.so.13" ] && export LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done
if ldd "$B/dualpath-hw" | grep -q 'libcublas.*not found'; then
  w=$(python3 -c 'import nvidia.cublas, os; print(os.path.dirname(nvidia.cublas.__file__) + "/lib")' 2>/dev/null)
  [ -n "$w" ] && export LD_LIBRARY_PATH="$w:${LD_LIBRARY_PATH:-}"
fi
if ldd "$B/dualpath-hw" "$B/dualpath" 2>/dev/null | grep -q 'not found'; then
  export LD_LIBRARY_PATH="$PWD/$B/fallback-lib:${LD_LIBRARY_PATH:-}"
fi
if ! "$B/dualpath-hw" --help > /dev/null 2>&1; then
  echo "carried build does not start here:"; ldd "$B/dualpath-hw"
  B=/tmp/build-hw-device
  cmake -S hw -B "$B" -DCMAKE_BUILD_TYPE=Release > /dev/null && cmake --build "$B" -j"$(nproc)" > /dev/null || exit 1
fi
ldd "$B/dualpath-hw" | grep -E 'cublas|ibverbs' >> "$OUT/machine.txt"
"$B/dualpath-hw" verbs | tee -a "$OUT/machine.txt"

rc=0
for s in $steps; do
  case $s in
  bench)
    "$B/dualpath-hwbench" | tee "$OUT/bench.txt" || rc=1
    "$B/dualpath-hwbench" --block-kib 16 --blocks 65536 | tee "$OUT/bench16.txt" || rc=1 ;;
  calibrate)
    "$B/dualpath-hw" calibrate -o "$OUT/calibrated.yaml" --store-dir "$PWD" | tee "$OUT/calibrate.txt" || rc=1 ;;
  store)
    "$B/dualpath-hw" store --dir "$PWD/.dp-store-run" --corrupt 3 | tee "$OUT/store.txt" || rc=1
    rm -rf "$PWD/.dp-store-run" ;;
  run)
    export DUALPATH_MODELS=$PWD/models
    sc=hw/scenarios/testbed-1gpu.yaml
    for pol in basic dualpath; do
      "$B/dualpath" hw run --share-gpus "$sc" --set policy.name=$pol --store "$PWD/.dp-hw-store" \
        --max-wall-s 240 -o "/tmp/hwrun-$pol.h5" | tee "$OUT/hwrun-$pol.txt" || rc=1
      rm -rf "$PWD/.dp-hw-store"
    done
    for pol in basic dualpath; do
      "$B/dualpath" run "$sc" --set policy.name=$pol -o "/tmp/sim-$pol.h5" || rc=1
    done > "$OUT/sim.txt" 2>&1 ;;
  *)
    echo "unknown step $s"; rc=2 ;;
  esac
done
bash scripts/validate-testbed.sh "$OUT" $steps | tee "$OUT/validate.txt" || rc=1
exit $rc
