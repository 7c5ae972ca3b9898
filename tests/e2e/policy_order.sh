#!/usr/bin/env bash
# The paper's ordering on a storage-bound scenario (tests/data/storage_bound.yaml:
# 1 PE + 2 DE, 100 Gb/s storage NICs): Basic saturates the prefill engine's
# storage NIC and leaves the decode engines' idle; DualPath reads over both
# and beats Basic clearly; Oracle (no storage limit) bounds DualPath from
# above. Measured when written: DualPath 1.71x Basic, Oracle 1.85x; the
# thresholds leave room for scheduler changes, not for a reversed order.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

"$DP" compare "$ROOT/tests/data/storage_bound.yaml" --no-plot -q -o "$T/c" >"$T/out" 2>&1 && ok || { bad compare; cat "$T/out"; }
/usr/bin/python3 - "$T/c" <<'PY' && ok || { bad "policy order"; cat "$T/out"; }
import sys, h5py
s = {p: dict(h5py.File("%s-%s.h5" % (sys.argv[1], p), "r")["summary"].attrs) for p in ("basic", "dualpath", "oracle")}
b, d, o = s["basic"], s["dualpath"], s["oracle"]
def check(cond, what):
    if not cond:
        sys.exit("not so: " + what)
check(b["requests"] == d["requests"] == o["requests"] > 0, "the same requests finish under each policy")
check(b["pe_snic_util"] >= 0.8 and b["de_snic_util"] == 0, "storage-bound under Basic: PE storage NIC >= 80%%, DE 0 (%.2f, %.2f)" % (b["pe_snic_util"], b["de_snic_util"]))
check(d["de_snic_util"] >= 0.3, "DualPath reads over the decode engines' NICs (%.2f)" % d["de_snic_util"])
check(d["throughput_tok_s"] >= 1.3 * b["throughput_tok_s"], "DualPath >= 1.3x Basic (%.3fx)" % (d["throughput_tok_s"] / b["throughput_tok_s"]))
check(d["makespan_s"] < b["makespan_s"], "DualPath finishes before Basic")
check(d["throughput_tok_s"] <= o["throughput_tok_s"], "DualPath at or below Oracle (%.4fx)" % (d["throughput_tok_s"] / o["throughput_tok_s"]))
check(d["makespan_s"] >= o["makespan_s"], "Oracle finishes no later than DualPath")
check(o["pe_snic_util"] == 0 and o["de_snic_util"] == 0, "Oracle reads nothing from storage")
PY
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
