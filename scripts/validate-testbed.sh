#!/usr/bin/env bash
# Check a device run's outputs (scripts/hw-device-run.sh) against the hw
# shim's targets; one PASS/FAIL line per check, exit status 1 if any fails.
#   scripts/validate-testbed.sh DIR     (DIR holds bench.txt, calibrated.yaml, ...)
# Missing files are reported as SKIP. Targets:
#   - batched block copies (16,384 x 64 KiB, scattered): >= 0.90 of a bulk
#     copy host->device, device->host and GPU->GPU (peer, 2+ GPUs);
#   - every copied block verified (verify=ok);
#   - the calibrated YAML has exactly the keys of struct dp_hw;
#   - the store: the SNIC token bucket within 10% of its target, and the
#     verify pass counting exactly the corrupted slices;
#   - `hw run`: no KV slice wrong or missing, no failed request.
set -uo pipefail
dir=${1:?usage: validate-testbed.sh DIR}
fail=0
say() { printf '%-5s %s\n' "$1" "$2"; [ "$1" = FAIL ] && fail=1; return 0; }
val() { sed -n "s/^$1=//p" "$2" | head -1; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

if [ -f "$dir/bench.txt" ]; then
  for k in h2d d2h peer; do
    v=$(val "${k}_block_over_bulk" "$dir/bench.txt")
    case $v in
    "") say SKIP "$k block/bulk: not measured" ;;
    n/a*) say SKIP "$k block/bulk: $v" ;;
    *) ge "$v" 0.90 && say PASS "$k block/bulk $v >= 0.90" || say FAIL "$k block/bulk $v < 0.90" ;;
    esac
  done
  [ "$(val verify "$dir/bench.txt")" = ok ] && say PASS "bench: every block verified" ||
    say FAIL "bench: verify=$(val verify "$dir/bench.txt")"
else
  say SKIP "bench.txt missing"
fi

if [ -f "$dir/calibrated.yaml" ]; then
  want="name gpu_flops gpu_hbm_bytes gpu_hbm_bw mfu mbu pcie_bw gpus_per_node cnics_per_node cnic_bw snic_bw dram_buffer_bytes storage_read_bw storage_write_bw step_overhead_s"
  got=$(grep -oE '^[a-z_]+:' "$dir/calibrated.yaml" | tr -d : | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$want" ] && say PASS "calibrated.yaml: the 15 keys of struct dp_hw" ||
    say FAIL "calibrated.yaml keys: $got"
else
  say SKIP "calibrated.yaml missing"
fi

if [ -f "$dir/store.txt" ]; then
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
  say SKIP "store.txt missing"
fi

found=0
for f in "$dir"/hwrun-*.txt; do
  [ -f "$f" ] || continue
  case $f in *-sim.txt) continue ;; esac
  found=1
  n=$(basename "$f" .txt)
  grep -q ' 0 wrong or missing' "$f" && say PASS "$n: no KV slice wrong or missing" ||
    say FAIL "$n: $(grep 'hw kv' "$f" || echo 'no hw kv line')"
  grep -qE 'requests done, 0 failed' "$f" && say PASS "$n: no failed request" ||
    say FAIL "$n: $(grep 'requests done' "$f" || echo 'no workload line')"
done
[ $found = 1 ] || say SKIP "no hwrun-*.txt"
exit $fail
