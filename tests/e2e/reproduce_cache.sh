#!/usr/bin/env bash
# scripts/reproduce_paper.py never reuses a run from another build or
# another configuration: runs are kept under a hash of the dualpath binary,
# the scenario and model files and the overrides. Checked by driving its
# run() with the simulation replaced by a stub that counts calls.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
cp "$DP" "$T/dp1"; cp "$DP" "$T/dp2"; printf 'x' >>"$T/dp2"   # another build
cp -r "$ROOT/models" "$T/models"
PYTHONPATH="$ROOT/scripts" /usr/bin/python3 - "$T" <<'PY' && echo "1 passed, 0 failed" || { echo "FAIL reproduce_paper.py run cache"; exit 1; }
import os, sys, types, h5py
import reproduce_paper as rp

T = sys.argv[1]
calls = []

def fake(cmd, check, stdout):   # a simulation: write a results file with a summary
    calls.append(cmd)
    out = cmd[cmd.index("-o") + 1]
    with h5py.File(out, "w") as f:
        g = f.create_group("summary")
        g.attrs["throughput_tok_s"] = 1.0
        g.attrs["throughput_tok_s.units"] = "tokens/s"

rp.subprocess.run = fake
args = types.SimpleNamespace(out=T, dualpath=os.path.join(T, "dp1"))
os.makedirs(os.path.join(T, "runs"), exist_ok=True)
sets = {"workload.synthetic.agents": 256}
s = rp.run(args, "offline-ds27b.yaml", "basic", sets, "t")
assert s == {"throughput_tok_s": 1.0}, s          # only the figures, not their units
rp.run(args, "offline-ds27b.yaml", "basic", sets, "t")
assert len(calls) == 1, "the same build and configuration did not reuse its run"
rp.run(args, "offline-ds27b.yaml", "dualpath", sets, "t")
assert len(calls) == 2, "another policy reused a run"
rp.run(args, "offline-ds27b.yaml", "basic", {"workload.synthetic.agents": 512}, "t")
assert len(calls) == 3, "another override reused a run"
args.dualpath = os.path.join(T, "dp2")
rp.run(args, "offline-ds27b.yaml", "basic", sets, "t")
assert len(calls) == 4, "another build reused a run"
# an edited model file is another configuration
with open(os.path.join(T, "models", "ds27b.yaml"), "a") as f:
    f.write("# edited\n")
os.environ["DUALPATH_MODELS"] = os.path.join(T, "models")
rp.run(args, "offline-ds27b.yaml", "basic", sets, "t")
assert len(calls) == 5, "an edited model file reused a run"
PY
