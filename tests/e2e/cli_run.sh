#!/usr/bin/env bash
# The front end end to end: run writes a results file with the documented
# layout, the same seed gives the same bytes, --trace replays a Mooncake
# trace, compare prints one row per policy.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

"$DP" --version | grep -q "^dualpath " && ok || bad version
"$DP" --help | grep -q "usage: dualpath" && ok || bad help
"$DP" run "$ROOT/tests/data/small.yaml" -o "$T/a.h5" -q >"$T/out" 2>&1 && ok || { bad run; cat "$T/out"; }
grep -q "job completion time" "$T/out" && ok || bad summary
grep -q "TTFT  p50/p90/p99" "$T/out" && ok || bad ttft
"$DP" run "$ROOT/tests/data/small.yaml" -o "$T/b.h5" -q >/dev/null 2>&1
cmp -s "$T/a.h5" "$T/b.h5" && ok || bad "same seed, different bytes"
"$DP" run "$ROOT/tests/data/small.yaml" -o "$T/c.h5" --seed 99 -q >/dev/null 2>&1
cmp -s "$T/a.h5" "$T/c.h5" && bad "seed ignored" || ok
if /usr/bin/python3 -c "import h5py" 2>/dev/null; then
  /usr/bin/python3 - "$T/a.h5" <<'PY' && ok || bad "h5 layout"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f.attrs["complete"] == 1
r = f["requests"][:]
assert len(r) > 10 and (r["t_done"] >= r["t_issue"]).all()
ts = f["timeseries"]
assert ts["snic_rx_util"].shape == (len(ts["time"]), 2)
assert f["summary"].attrs["requests"] == len(r)
PY
fi
"$DP" run "$ROOT/tests/data/small.yaml" --trace "$ROOT/tests/data/mooncake_head.jsonl" -o "$T/m.h5" -q >"$T/out" 2>&1 && grep -q "200 requests done" "$T/out" && ok || { bad "mooncake replay"; cat "$T/out"; }
"$DP" compare "$ROOT/tests/data/small.yaml" --policies basic,dualpath,oracle -o "$T/cmp" --no-plot -q >"$T/out" 2>&1 && ok || { bad compare; cat "$T/out"; }
[ "$(grep -cE '^(basic|dualpath|oracle) ' "$T/out")" -eq 3 ] && ok || bad "compare rows"
"$DP" trace stats "$ROOT/tests/data/mooncake_head.jsonl" | grep -q "requests       200" && ok || bad "trace stats"
"$DP" policies | grep -q "^dualpath" && ok || bad policies
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
