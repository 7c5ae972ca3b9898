#!/usr/bin/env bash
# Check a device run's outputs (scripts/hw-device-run.sh) against the hw
# shim's targets; one PASS/FAIL line per check, exit status 1 if any fails.
#   scripts/validate-testbed.sh DIR [STEP...]
# STEPs are the device run's: bench calibrate store run (default: all four).
# A file a named step should have written and did not is a FAIL, as is a
# missing DIR: a check that cannot run does not pass. The one SKIP is a
# measurement the machine cannot make (peer copies on a one-GPU machine,
# reported as n/a by the bench). Targets:
#   - batched block copies (16,384 x 64 KiB, scattered): >= 0.90 of a bulk
#     copy host->device, device->host and GPU->GPU (peer, 2+ GPUs);
#   - every copied block verified (verify=ok);
#   - the calibrated YAML has exactly the keys of struct dp_hw;
#   - the store: the SNIC token bucket within 10% of its target, and the
#     verify pass counting exactly the corrupted slices;
#   - `hw run`: no KV slice wrong or missing, no failed request.
set -uo pipefail
dir=${1:?usage: validate-testbed.sh DIR [bench] [calibrate] [store] [run]}
shift
steps=${*:-bench calibrate store run}
fail=0
say() { printf '%-5s %s\n' "$1" "$2"; [ "$1" = FAIL ] && fail=1; return 0; }
val() { sed -n "s/^$1=//p" "$2" | head -1; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
want() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }
[ -d "$dir" ] || { say FAIL "$dir: no such folder"; exit 1; }
for s in $steps; do
  case $s in bench|calibrate|store|run) ;; *) say FAIL "unknown step '$s' (bench, calibrate, store, run)" ;; esac
done

if ! want bench; then :
elif [ -f "$dir/bench.txt" ]; then
  for k in h2d d2h peer; do
    v=$(val "${k}_block_over_bulk" "$dir/bench.txt")
    case $v in
    "") say FAIL "$k block/bulk: not in bench.txt" ;;
    n/a*) say SKIP "$k block/bulk: $v" ;;
    *) ge "$v" 0.90 && say PASS "$k block/bulk $v >= 0.90" || say FAIL "$k block/bulk $v < 0.90" ;;
    esac
  done
  [ "$(val verify "$dir/bench.txt")" = ok ] && say PASS "bench: every block verified" ||
    say FAIL "bench: verify=$(val verify "$dir/bench.txt")"
else
  say FAIL "bench.txt missing (the bench step did not run or failed)"
fi

if ! want calibrate; then :
elif [ -f "$dir/calibrated.yaml" ]; then
  want="name gpu_flops gpu_hbm_bytes gpu_hbm_bw mfu mbu pcie_bw gpus_per_node cnics_per_node cnic_bw snic_bw dram_buffer_bytes storage_read_bw storage_write_bw step_overhead_s"
  got=$(grep -oE '^[a-z_]+:' "$dir/calibrated.yaml" | tr -d : | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$want" ] && say PASS "calibrated.yaml: the 15 keys of struct dp_hw" ||
    say FAIL "calibrated.yaml keys: $got"
else
  say FAIL "calibrated.yaml missing (the calibrate step did not run or failed)"
fi

if ! want store; then :
elif [ -f "$dir/store.txt" ]; then
  r=$(val store_shaped_over_target "$dir/store.txt")
  ge "$r" 0.90 && ge 1.10 "$r" && say PASS "store: bucket at $r of its target" ||
    say FAIL "store: bucket at $r of its target (want 0.90..1.10)"
  inj=$(val store_corrupt_injected "$dir/store.txt")
  bad=$(val store_bad_slices "$dir/store.txt")
  [ -n "$bad" ] && [ "$bad" = "$inj" ] && say PASS "store: verify counted $bad of $inj corrupted slices" ||
    say FAIL "store: verify counted '$bad', $inj corrupted"
  [ "$(val store_bad_slices_unshaped "$dir/store.txt")" = 0 ] && say PASS "store: clean pass has 0 wrong slices" ||
    say FAIL "store: clean pass has wrong slices"
else
  say FAIL "store.txt missing (the store step did not run or failed)"
fi

found=0
want run && for f in "$dir"/hwrun-*.txt; do
  [ -f "$f" ] || continue
  case $f in *-sim.txt) continue ;; esac
  found=1
  n=$(basename "$f" .txt)
  grep -q ' 0 wrong or missing' "$f" && say PASS "$n: no KV slice wrong or missing" ||
    say FAIL "$n: $(grep 'hw kv' "$f" || echo 'no hw kv line')"
  grep -qE 'requests done, 0 failed' "$f" && say PASS "$n: no failed request" ||
    say FAIL "$n: $(grep 'requests done' "$f" || echo 'no workload line')"
done
want run && [ $found = 0 ] && say FAIL "no hwrun-*.txt (the run step did not run or failed)"
exit $fail
