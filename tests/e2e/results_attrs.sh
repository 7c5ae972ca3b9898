#!/usr/bin/env bash
# The results files explain themselves (read back with h5py): every dataset
# has units and a description, every column of a table COLUMN.units and
# COLUMN.description, every summary figure NAME.units and
# NAME.description; /engines/role says what 0 and 1 mean; seed, complete
# and counts are stored as integers, and so are swept integer values. The
# plot scripts draw each kind of file, refuse the other kind in one line
# (no traceback), and a configuration below the lowest probed rate is not
# drawn as a capacity of 0.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
PY=/usr/bin/python3
$PY -c "import h5py, matplotlib" 2>/dev/null || { echo "FAIL python3-h5py or python3-matplotlib missing (scripts/setup.sh installs them)"; exit 1; }

"$DP" run "$ROOT/tests/data/small.yaml" -q -o "$T/run.h5" >/dev/null 2>&1 && ok || bad "run"
$PY - "$T/run.h5" <<'PY' && ok || bad "run results: attributes"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert np.issubdtype(a["seed"].dtype, np.integer) and a["seed"] == 7, a["seed"]
assert np.issubdtype(a["complete"].dtype, np.integer) and a["complete"] == 1
assert "description" in a
def datasets(g, out):
    for v in g.values():
        (datasets(v, out) if isinstance(v, h5py.Group) else out.append(v))
    return out
for d in datasets(f, []):
    assert "description" in d.attrs, d.name
    if d.dtype.names:   # a table: every column
        for c in d.dtype.names:
            assert c + ".units" in d.attrs and c + ".description" in d.attrs, (d.name, c)
    else:
        assert "units" in d.attrs, d.name
assert f["requests"].attrs["ttft.units"] == b"s"
assert f["timeseries/snic_rx_util"].attrs["units"].startswith(b"fraction")
assert b"engine" in f["timeseries/snic_rx_util"].attrs["columns"]
assert f["engines/role"].attrs["meaning"] == b"0 = prefill engine (PE), 1 = decode engine (DE)"
s = f["summary"].attrs
names = [k for k in s if "." not in k and k != "description"]
assert len(names) >= 30, names
for k in names:
    assert k + ".units" in s and k + ".description" in s, k
for k in ("requests", "failed", "sessions", "sessions_total"):
    assert np.issubdtype(s[k].dtype, np.integer), (k, s[k].dtype)
assert s["throughput_tok_s.units"] == b"tokens/s"
PY

# a sweep whose keys are integers, a number and a name, and whose SLO no
# configuration meets at the lowest rate: every capacity is "< rate_lo"
cat >"$T/s.yaml" <<'YAML'
name: attrs
seed: 3
model: ds27b
hardware: {base: hopper, snic_bw: 12.5e9}
cluster: {prefill_engines: 1, decode_engines: 1, prefill_gpus: 8, decode_gpus: 8}
workload:
  synthetic: {rate: 1, duration_s: 5, turns_mean: 3, prompt_tokens_mean: 8000,
              append_tokens_mean: 300, output_tokens_mean: 20, think_s_mean: 0.3}
slo: {ttft_ms: 0.001, tpot_ms: 50}
sweep:
  vary:
    cluster.prefill_engines: [1, 2]
    hardware.snic_bw: [12.5e9]
    policy.name: [basic]
  goal: {kind: max_rate, rate_lo: 0.5, rate_hi: 4, tolerance: 0.5}
YAML
"$DP" sweep "$T/s.yaml" -q -o "$T/sw" >"$T/sw.out" 2>&1 && ok || { bad "sweep"; cat "$T/sw.out"; }
grep -qE "^1 +12.5e9 +basic +16 +1\+1 +< 0.5 +< 0.03125 " "$T/sw.out" && ok || { bad "sweep table: '< 0.5' and its per-GPU bound"; cat "$T/sw.out"; }
grep -qE "^ +agents/s +agents/s$" "$T/sw.out" && ok || bad "sweep table: no units line"
$PY - "$T/sw.h5" <<'PY' && ok || bad "sweep results: attributes and types"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert np.issubdtype(f.attrs["complete"].dtype, np.integer) and f.attrs["complete"] == 1
for name in ("points", "configs"):
    d = f[name]
    assert "description" in d.attrs
    for c in d.dtype.names:
        assert c + ".units" in d.attrs and c + ".description" in d.attrs, (name, c)
    t = d.dtype
    assert np.issubdtype(t["cluster.prefill_engines"], np.integer), t["cluster.prefill_engines"]
    assert np.issubdtype(t["hardware.snic_bw"], np.floating), t["hardware.snic_bw"]
    assert t["policy.name"].kind == "S"
    assert np.issubdtype(t["requests"], np.integer)
c = f["configs"]
assert c.attrs["capacity.units"] == b"agents/s"
assert c.attrs["hardware.snic_bw.units"] == b"bytes/s"
assert list(c["cluster.prefill_engines"]) == [1, 2]
assert (c["capacity"] == 0).all()
PY
# the plot of that sweep: nothing drawn at 0, each configuration a "below" marker
PYTHONPATH="$ROOT/scripts" $PY - "$T/sw.h5" <<'PY' && ok || bad "plot_sweep: a capacity below rate_lo drawn as 0"
import sys, h5py
import plot_sweep as ps
cfgs = h5py.File(sys.argv[1], "r")["configs"][:]
lines, dots = ps.frontier(cfgs, "gpus", [], "capacity", ps.served)
assert lines == {}, lines
assert ps.below_points(cfgs, "gpus", 0.5) == [(16, 0.5), (24, 0.5)]
PY

# the plot scripts: their own kind drawn, the other refused in one line
S="$ROOT/scripts"
for p in plot_timeseries plot_compare plot_sweep reproduce_paper; do
  [ -x "$S/$p.py" ] && ok || bad "scripts/$p.py is not executable (the README runs it directly)"
done
"$S/plot_timeseries.py" "$T/ts.png" "$T/run.h5" && [ -s "$T/ts.png" ] && ok || bad "plot_timeseries on a run"
"$S/plot_compare.py" "$T/cmp.png" "$T/run.h5" "$T/run.h5" && [ -s "$T/cmp.png" ] && ok || bad "plot_compare on runs"
"$S/plot_sweep.py" "$T/sw.png" "$T/sw.h5" && [ -s "$T/sw.png" ] && ok || bad "plot_sweep on a sweep"
for c in "plot_timeseries.py $T/x.png $T/sw.h5" "plot_compare.py $T/x.png $T/sw.h5" "plot_sweep.py $T/x.png $T/run.h5" "plot_timeseries.py $T/x.png $T/none.h5"; do
  # shellcheck disable=SC2086
  "$S"/$c >"$T/out" 2>"$T/err"; rc=$?
  [ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && ! grep -q Traceback "$T/err" && ok || { bad "$c: exit $rc"; cat "$T/err"; }
done
grep -q "holds a sweep's results, not a run's: plot it with scripts/plot_sweep.py" <("$S/plot_timeseries.py" "$T/x.png" "$T/sw.h5" 2>&1) && ok || bad "plot_timeseries on a sweep: message"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
