#!/usr/bin/python3
"""Run the paper's evaluation in simulation and compare with the paper.

usage: reproduce_paper.py [--quick] [--jobs N] [--out DIR] [--dualpath BIN]

Writes DIR/report.md (a table "paper figure | paper value | ours" and the
reasons where ours differs by more than 15%), DIR/*.png, and DIR/runs/*.h5.
Every figure is a simulation of a scenario in scenarios/paper/; nothing is
fitted. --quick uses fewer agent counts and rate probes (for CI and a first
look); the full run takes about half an hour on two cores.
"""
import argparse
import concurrent.futures as cf
import os
import subprocess
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["ds660b", "ds27b", "qwen32b"]
NAMES = {"ds660b": "DS660B", "ds27b": "DS27B", "qwen32b": "Qwen32B"}
SLO_ATTAINMENT = 0.90   # online capacity: 90% of requests meet TTFT and TPOT


def run(args, scen, policy, sets, tag):
    """One simulation; returns its summary attributes (dict)."""
    out = os.path.join(args.out, "runs", "%s-%s.h5" % (tag, policy))
    if not os.path.exists(out):
        cmd = [args.dualpath, "run", os.path.join(ROOT, "scenarios", "paper", scen), "-q",
               "-o", out, "--set", "policy.name=" + policy]
        for k, v in sets.items():
            cmd += ["--set", "%s=%s" % (k, v)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with h5py.File(out, "r") as f:
        # the figures; NAME.units, NAME.description and description are text
        return {k: float(v) for k, v in f["summary"].attrs.items()
                if "." not in k and k != "description"}


def offline(args, pool):
    counts = [256, 1024] if args.quick else [256, 512, 1024, 2048]
    jobs = {}
    for m in MODELS:
        for a in counts:
            for p in ("basic", "dualpath", "oracle"):
                jobs[(m, a, p)] = pool.submit(run, args, "offline-%s.yaml" % m, p,
                                              {"workload.synthetic.agents": a},
                                              "offline-%s-a%d" % (m, a))
    return counts, {k: f.result() for k, f in jobs.items()}


def meets(s):
    return s["requests"] > 0 and s["slo_attainment"] >= SLO_ATTAINMENT


def capacity(args, model, policy):
    """Largest agent arrival rate (agents/s) meeting the SLOs: bracket by
    doubling, then bisect to 5% (each probe is one simulation)."""
    scen = "online-%s.yaml" % model

    def ok(rate):
        s = run(args, scen, policy, {"workload.synthetic.rate": "%.4f" % rate},
                "online-%s-r%.4f" % (model, rate))
        return meets(s)

    lo, hi = 0.0, 0.25
    while ok(hi):
        lo, hi = hi, hi * 2
        if hi > 64:
            break
    steps = 3 if args.quick else 6
    for _ in range(steps):
        if hi - lo <= 0.05 * hi:
            break
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def online(args, pool):
    jobs = {(m, p): pool.submit(capacity, args, m, p) for m in MODELS
            for p in ("basic", "dualpath")}
    return {k: f.result() for k, f in jobs.items()}


def scaling(args, pool):
    nodes = [8, 16, 48] if args.quick else [8, 16, 32, 48]
    jobs = {}
    for n in nodes:
        k = n // 8   # 8 nodes = 2 PE x 16 GPUs + 1 DE x 32 GPUs
        sets = {"cluster.prefill_engines": 2 * k, "cluster.decode_engines": k,
                "workload.synthetic.agents": 1024 * k}
        for p in ("basic", "dualpath"):
            jobs[(n, p)] = pool.submit(run, args, "offline-ds660b.yaml", p, sets,
                                       "scale-ds660b-n%d" % n)
    return nodes, {k: f.result() for k, f in jobs.items()}


def isolation(args, pool):
    jobs = {iso: pool.submit(run, args, "offline-ds660b.yaml", "dualpath",
                             {"traffic.isolation": iso}, "iso-%s" % iso)
            for iso in ("true", "false")}
    return {k: f.result() for k, f in jobs.items()}


def plot_offline(args, counts, off):
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    for i, m in enumerate(MODELS):
        for p, style in (("dualpath", "o-"), ("oracle", "s--")):
            ax[i].plot(counts, [off[(m, a, p)]["throughput_tok_s"] /
                                off[(m, a, "basic")]["throughput_tok_s"] for a in counts],
                       style, label=p)
        ax[i].axhline(1.0, color="gray", lw=0.8)
        ax[i].set_xscale("log", base=2)
        ax[i].set_title("%s offline" % NAMES[m])
        ax[i].set_xlabel("agents")
        ax[i].set_ylabel("throughput / Basic")
        ax[i].legend()
        ax[i].grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "offline_speedup.png"), dpi=110)


def plot_snic(args, counts, off):
    a = counts[-1]
    fig, ax = plt.subplots(figsize=(8, 4))
    labels, pe, de = [], [], []
    for m in MODELS:
        for p in ("basic", "dualpath"):
            s = off[(m, a, p)]
            labels.append("%s\n%s" % (NAMES[m], p))
            pe.append(100 * s["pe_snic_util"])
            de.append(100 * s["de_snic_util"])
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], pe, 0.4, label="prefill engines")
    ax.bar([i + 0.2 for i in x], de, 0.4, label="decode engines")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("storage NIC read utilisation (%)")
    ax.set_title("storage NIC load, %d agents offline" % a)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "snic_balance.png"), dpi=110)


def plot_online(args, cap):
    fig, ax = plt.subplots(figsize=(7, 4))
    x = range(len(MODELS))
    ax.bar([i - 0.2 for i in x], [cap[(m, "basic")] for m in MODELS], 0.4, label="basic")
    ax.bar([i + 0.2 for i in x], [cap[(m, "dualpath")] for m in MODELS], 0.4, label="dualpath")
    ax.set_xticks(list(x))
    ax.set_xticklabels([NAMES[m] for m in MODELS])
    ax.set_ylabel("agents/s within SLO")
    ax.set_title("online serving capacity")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "online_capacity.png"), dpi=110)


def plot_scaling(args, nodes, sc):
    fig, ax = plt.subplots(figsize=(6, 4))
    for p in ("basic", "dualpath"):
        ax.plot(nodes, [sc[(n, p)]["throughput_tok_s"] / 1e6 for n in nodes], "o-", label=p)
    base = sc[(nodes[0], "dualpath")]["throughput_tok_s"] / 1e6
    ax.plot(nodes, [base * n / nodes[0] for n in nodes], ":", color="gray", label="linear")
    ax.set_xlabel("nodes")
    ax.set_ylabel("throughput (M tokens/s)")
    ax.set_title("DS660B offline scaling")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "scaling.png"), dpi=110)


def ratio(a, b):
    return a / b if b > 0 else float("inf")


def report(args, counts, off, cap, nodes, sc, iso):
    rows = []
    best = {m: max(ratio(off[(m, a, "dualpath")]["throughput_tok_s"],
                         off[(m, a, "basic")]["throughput_tok_s"]) for a in counts)
            for m in MODELS}
    up_to = max(best.values())
    rows.append(("offline throughput, DualPath / Basic, up to (all models)", "1.87x",
                 "%.2fx" % up_to, 1.87, up_to))
    for m in MODELS:
        rows.append(("offline throughput, DualPath / Basic, %s (best agent count)" % NAMES[m],
                     "up to 1.87x", "%.2fx" % best[m], None, None))
    orc = min(ratio(off[(m, a, "oracle")]["throughput_tok_s"],
                    off[(m, a, "dualpath")]["throughput_tok_s"]) for m in MODELS for a in counts)
    rows.append(("Oracle above DualPath (min Oracle / DualPath)", "> 1", "%.3f" % orc, None, None))
    caps = [ratio(cap[(m, "dualpath")], cap[(m, "basic")]) for m in MODELS]
    avg = sum(caps) / len(caps)
    rows.append(("online capacity, DualPath / Basic, average", "1.96x", "%.2fx" % avg, 1.96, avg))
    for m, r in zip(MODELS, caps):
        rows.append(("online capacity %s: basic %.2f, dualpath %.2f agents/s" %
                     (NAMES[m], cap[(m, "basic")], cap[(m, "dualpath")]), "-", "%.2fx" % r,
                     None, None))
    a = counts[-1]
    for m in MODELS:
        b, d = off[(m, a, "basic")], off[(m, a, "dualpath")]
        rows.append(("SNIC read util PE/DE, %s, %d agents: basic vs dualpath" % (NAMES[m], a),
                     "skewed vs balanced",
                     "%.0f/%.0f%% vs %.0f/%.0f%%" % (100 * b["pe_snic_util"], 100 * b["de_snic_util"],
                                                    100 * d["pe_snic_util"], 100 * d["de_snic_util"]),
                     None, None))
    t0 = sc[(nodes[0], "dualpath")]["throughput_tok_s"]
    eff = ratio(sc[(nodes[-1], "dualpath")]["throughput_tok_s"], t0 * nodes[-1] / nodes[0])
    rows.append(("scaling efficiency %d -> %d nodes (DualPath)" % (nodes[0], nodes[-1]),
                 "near-linear", "%.0f%%" % (100 * eff), None, None))
    on, offi = iso["true"], iso["false"]
    rows.append(("traffic isolation off: all-to-all stretch mean / worst", "KV never delays collectives when on",
                 "on %.3f/%.2f, off %.3f/%.2f" % (on["a2a_stretch_mean"], on["a2a_stretch_max"],
                                                  offi["a2a_stretch_mean"], offi["a2a_stretch_max"]),
                 None, None))
    rows.append(("traffic isolation off: TPOT p50 ms (on -> off)", "-",
                 "%.1f -> %.1f" % (1e3 * on["tpot_p50_s"], 1e3 * offi["tpot_p50_s"]), None, None))
    lines = ["# The paper's evaluation, reproduced in simulation", "",
             "Generated by `scripts/reproduce-paper.sh%s`; every number below comes from the runs in"
             " `runs/`. Scenarios: `scenarios/paper/`; decisions: `scenarios/paper/README.md`." %
             (" --quick" if args.quick else ""), "",
             "| paper figure | paper value | ours |", "| --- | --- | --- |"]
    off15 = []
    for name, pv, ours, pnum, onum in rows:
        lines.append("| %s | %s | %s |" % (name, pv, ours))
        if pnum and onum and abs(onum - pnum) / pnum > 0.15:
            off15.append((name, pv, ours))
    lines += ["", "Figures: offline_speedup.png, online_capacity.png, snic_balance.png, scaling.png.", ""]
    if off15:
        lines += ["## Where ours differs by more than 15%", ""]
        for name, pv, ours in off15:
            lines.append("- **%s**: paper %s, ours %s. See scenarios/paper/README.md, "
                         "\"Why the numbers differ\"." % (name, pv, ours))
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--out", default=os.path.join(ROOT, "results", "paper"))
    ap.add_argument("--dualpath", default=os.path.join(ROOT, "build", "sim", "dualpath"))
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "runs"), exist_ok=True)
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        counts, off = offline(args, pool)
        print("offline done", file=sys.stderr)
        nodes, sc = scaling(args, pool)
        print("scaling done", file=sys.stderr)
        iso = isolation(args, pool)
        cap = online(args, pool)
        print("online done", file=sys.stderr)
    plot_offline(args, counts, off)
    plot_snic(args, counts, off)
    plot_online(args, cap)
    plot_scaling(args, nodes, sc)
    report(args, counts, off, cap, nodes, sc, iso)


if __name__ == "__main__":
    main()
