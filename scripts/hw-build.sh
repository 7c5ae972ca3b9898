#!/usr/bin/env bash
# Build the hardware shim's programs for the GPU machines, here, and gather
# what a device run carries into build-hw-carry/ (a few MiB).
#
#  1. build-hw/: a standalone build of hw/ (cmake -S hw): dualpath-hw and
#     dualpath-hwbench (bench, calibrate, store, verbs) need none of libyaml,
#     GSL, jansson or HDF5.
#  2. build-hw-full/: the whole project with DP_STATIC_DEPS=ON (libyaml, GSL,
#     jansson linked statically; HDF5 dynamic, present on the GPU machines):
#     the simulator and a dualpath-hw with `hw run`, for side-by-side runs
#     (`dualpath hw ...` runs the dualpath-hw beside it). Skipped with a note
#     when the project does not build at the moment.
#  3. build-hw-carry/: the binaries, plus Debian's libibverbs/libnl and
#     libhdf5/libsz/libaec in fallback-lib/ (used there only if missing).
# cudart is static; cuBLAS comes from the CUDA toolkit on the GPU machines.
#
#   scripts/hw-build.sh
# then, through the device tool: carry ["build-hw-carry"], command
#   bash scripts/hw-device-run.sh [bench] [calibrate] [store] [run]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
cmake -S "$root/hw" -B "$root/build-hw" -DCMAKE_BUILD_TYPE=Release -DDP_WITH_CUDA=ON > /dev/null &&
  cmake --build "$root/build-hw" -j"$jobs" > /dev/null || { echo "hw build failed"; exit 1; }
full=1
cmake -S "$root" -B "$root/build-hw-full" -DCMAKE_BUILD_TYPE=Release -DDP_WITH_CUDA=ON \
  -DDP_STATIC_DEPS=ON > /dev/null &&
  cmake --build "$root/build-hw-full" -j"$jobs" --target dualpath dualpath-hw > /dev/null || {
  echo "note: the whole project does not build now; carrying the hw programs only"; full=0; }
carry=$root/build-hw-carry
rm -rf "$carry" && mkdir -p "$carry/fallback-lib"
cp "$root/build-hw/dualpath-hw" "$root/build-hw/dualpath-hwbench" "$carry/"
[ $full = 1 ] && cp "$root/build-hw-full/sim/dualpath" "$root/build-hw-full/hw/dualpath-hw" "$carry/"
for lib in libibverbs.so.1 libnl-3.so.200 libnl-route-3.so.200 libhdf5_serial.so.103 \
           libsz.so.2 libaec.so.0; do
  src=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')
  [ -n "$src" ] && cp -L "$src" "$carry/fallback-lib/$lib"
done
"$carry/dualpath-hw" verbs || true
du -sh "$carry"
ls "$carry"
