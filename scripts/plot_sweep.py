#!/usr/bin/python3
"""The frontier of a capacity-planning sweep (dualpath sweep).

usage: plot_sweep.py OUT.png SWEEP.h5

Reads /configs of the table `dualpath sweep` writes. The x axis is the GPU
count when it varies, else the first numeric value swept; one line per
combination of the other swept values (the policy, say), drawn through the
best configuration at each x (so P/D splits of one size collapse to the best
split, labelled P+D). max_rate: largest rate within SLO, and per GPU.
min_gpus and grid: SLO attainment (the goal's threshold dashed) and
throughput.
"""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Keys that only set the cluster's size or split: folded into the GPU axis.
SIZE_KEYS = ("cluster.prefill_engines", "cluster.decode_engines", "cluster.engines",
             "cluster.pd_ratio", "cluster.prefill_gpus", "cluster.decode_gpus")


def text(v):
    """HDF5 fixed-length strings come back as bytes."""
    return v.decode() if isinstance(v, bytes) else str(v)


def number(s):
    try:
        return float(s)
    except ValueError:
        return None


def short(key):
    """policy.name -> policy, hardware.snic_bw -> snic_bw."""
    parts = key.split(".")
    return parts[-2] if parts[-1] == "name" and len(parts) > 1 else parts[-1]


def choose_axes(cfgs, varied):
    """x: GPUs if they vary, else the first numeric swept key; series: the rest."""
    if len(set(int(g) for g in cfgs["gpus"])) > 1:
        xkey = "gpus"
    else:
        xkey = None
        for k in varied:
            vals = [number(text(v)) for v in cfgs[k]]
            if all(v is not None for v in vals) and len(set(vals)) > 1:
                xkey = k
                break
    series = [k for k in varied if k != xkey and not (xkey == "gpus" and k in SIZE_KEYS)
              and len(set(text(v) for v in cfgs[k])) > 1]
    return xkey, series


def xval(row, xkey, i):
    if xkey is None:
        return i
    if xkey == "gpus":
        return int(row["gpus"])
    x = number(text(row[xkey]))
    return x * 8 / 1e9 if xkey.endswith("_bw") else x   # bytes/s -> Gb/s


def frontier(cfgs, xkey, series, metric, keep, note=None):
    """{series label: sorted [(x, best metric, note of the best)]} and all points.
    The note names what was collapsed: the P+D split, or the given keys."""
    lines, dots = {}, {}
    for i, row in enumerate(cfgs):
        if not keep(row):
            continue
        label = ", ".join("%s=%s" % (short(k), text(row[k])) for k in series) or "all"
        x, y = xval(row, xkey, i), float(row[metric])
        dots.setdefault(label, []).append((x, y))
        best = lines.setdefault(label, {})
        if x not in best or y > best[x][0]:
            tag = ("%d+%d" % (row["prefill_engines"], row["decode_engines"]) if note is None
                   else " ".join(text(row[k]) for k in note))
            best[x] = (y, tag)
    out = {lab: sorted((x, y, pd) for x, (y, pd) in b.items()) for lab, b in lines.items()}
    return out, dots


def draw(ax, lines, dots, annotate):
    for lab, pts in lines.items():
        ln, = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=lab)
        ax.scatter([d[0] for d in dots[lab]], [d[1] for d in dots[lab]], s=12, alpha=0.35,
                   color=ln.get_color())
        if annotate:
            for x, y, pd in pts:
                ax.annotate(pd, (x, y), textcoords="offset points", xytext=(3, 4), fontsize=7)
    ax.grid(alpha=0.3)
    if len(lines) > 1 or list(lines) != ["all"]:
        ax.legend(fontsize=8)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    png, path = sys.argv[1], sys.argv[2]
    with h5py.File(path, "r") as f:
        cfgs = f["configs"][:]
        goal = text(f.attrs["goal"])
        varied = [k for k in text(f.attrs["varied"]).split("\n") if k]
        name = text(f.attrs["scenario_name"])
        thr = float(f.attrs["slo_attainment"])
        rate_key = text(f.attrs["rate_key"])
        answer = text(f.attrs["answer"]).split("\n")[0]
    xkey, series = choose_axes(cfgs, varied)
    xlabel = {"gpus": "GPUs", None: "configuration"}.get(xkey, xkey)
    if xkey and xkey.endswith("_bw"):
        xlabel += " (Gb/s)"
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    by_size = xkey == "gpus"
    if goal == "max_rate":
        lines, dots = frontier(cfgs, xkey, series, "capacity", lambda r: True)
        draw(ax[0], lines, dots, by_size)
        ax[0].set_ylabel("largest %s within SLO" % rate_key)
        if len(series) >= 2:
            # the best of the other values for each of the last (the policy, say)
            keep_key, folded = series[-1], series[:-1]
            best, bdots = frontier(cfgs, xkey, [keep_key], "capacity", lambda r: True, folded)
            draw(ax[1], best, bdots, True)
            ax[1].set_ylabel("best over %s" % ", ".join(short(k) for k in folded))
        else:
            per = {lab: [(x, y / x if by_size and x else y, pd) for x, y, pd in pts]
                   for lab, pts in lines.items()}
            draw(ax[1], per, {lab: [] for lab in per}, False)
            ax[1].set_ylabel("per GPU" if by_size else "capacity")
    else:
        done = lambda r: bool(r["evaluated"])  # noqa: E731
        lines, dots = frontier(cfgs, xkey, series, "slo_attainment", done)
        draw(ax[0], lines, dots, by_size)
        ax[0].axhline(thr, ls="--", color="grey", lw=1)
        ax[0].set_ylabel("SLO attainment (goal: >= %g)" % thr)
        lines, dots = frontier(cfgs, xkey, series, "throughput_tok_s", done)
        draw(ax[1], lines, dots, False)
        ax[1].set_ylabel("throughput (tokens/s)")
    for a in ax:
        a.set_xlabel(xlabel)
    fig.suptitle("%s: %s\n%s" % (name, goal, answer), fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    main()
