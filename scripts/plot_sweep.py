#!/usr/bin/python3
"""The frontier of a capacity-planning sweep (dualpath sweep).

usage: plot_sweep.py OUT.png SWEEP.h5

Reads /configs of the table `dualpath sweep` writes. The x axis is the GPU
count when it varies, else the first numeric value swept; one line per
combination of the other swept values (the policy, say), drawn through the
best configuration at each x (so P/D splits of one size collapse to the best
split, labelled P+D). max_rate: largest rate within SLO, and per GPU.
min_gpus and grid: SLO attainment (the goal's threshold dashed) and
throughput. A configuration whose capacity is below the search's lowest
rate is drawn as a down-pointing marker at that rate ("< rate_lo"), never
as 0; one whose search did not finish (an interrupted sweep) is left out.
Units come from the table's column attributes.
"""
import math
import sys

import matplotlib

from plotlib import legend_below, open_kind, text, units

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Keys that only set the cluster's size or split: folded into the GPU axis.
SIZE_KEYS = ("cluster.prefill_engines", "cluster.decode_engines", "cluster.engines",
             "cluster.pd_ratio", "cluster.prefill_gpus", "cluster.decode_gpus")


SCRIPT = "plot_sweep.py"


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
        legend_below(ax)


def served(row):
    """A configuration with a capacity: not below rate_lo (0), not unfinished (NaN)."""
    return row["capacity"] > 0 and not math.isnan(row["capacity"])


def below_points(cfgs, xkey, rate_lo):
    """(x, rate_lo) of the configurations that did not serve even rate_lo."""
    return [(xval(r, xkey, i), rate_lo) for i, r in enumerate(cfgs)
            if r["evaluated"] and r["capacity"] == 0]


def below(ax, cfgs, xkey, rate_lo):
    """Configurations that did not serve even rate_lo: a marker pointing down
    from rate_lo (their capacity is somewhere below it, not 0)."""
    pts = below_points(cfgs, xkey, rate_lo)
    if pts:
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker="v", color="grey", s=30,
                   label="below the lowest rate probed (< %g)" % rate_lo, zorder=3)
        legend_below(ax)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    png, path = sys.argv[1], sys.argv[2]
    with open_kind(SCRIPT, path, "sweep") as f:
        ds = f["configs"]
        cfgs = ds[:]
        col_units = {c: units(ds, c) for c in ds.dtype.names}
        cap_units = col_units.get("capacity", "")
        tput_units = units(ds, "throughput_tok_s", "tokens/s")
        goal = text(f.attrs["goal"])
        varied = [k for k in text(f.attrs["varied"]).split("\n") if k]
        name = text(f.attrs["scenario_name"])
        thr = float(f.attrs["slo_attainment"])
        rate_key = text(f.attrs["rate_key"])
        rate_lo = float(f.attrs["rate_lo"])
        answer = text(f.attrs["answer"]).split("\n")[0]
        if "complete" in f.attrs and int(f.attrs["complete"]) == 0:
            answer = "(interrupted sweep: the points so far) " + answer
    xkey, series = choose_axes(cfgs, varied)
    xlabel = {"gpus": "GPUs", None: "configuration"}.get(xkey, xkey)
    if xkey and xkey.endswith("_bw"):
        xlabel += " (Gb/s)"
    elif xkey and xkey != "gpus" and col_units.get(xkey):
        xlabel += " (%s)" % col_units[xkey]
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    by_size = xkey == "gpus"
    if goal == "max_rate":
        lines, dots = frontier(cfgs, xkey, series, "capacity", served)
        draw(ax[0], lines, dots, by_size)
        below(ax[0], cfgs, xkey, rate_lo)
        ax[0].set_ylabel("largest %s within SLO (%s)" % (short(rate_key), cap_units))
        if len(series) >= 2:
            # the best of the other values for each of the last (the policy, say)
            keep_key, folded = series[-1], series[:-1]
            best, bdots = frontier(cfgs, xkey, [keep_key], "capacity", served, folded)
            draw(ax[1], best, bdots, True)
            below(ax[1], cfgs, xkey, rate_lo)
            ax[1].set_ylabel("best over %s (%s)" % (", ".join(short(k) for k in folded), cap_units))
        else:
            per = {lab: [(x, y / x if by_size and x else y, pd) for x, y, pd in pts]
                   for lab, pts in lines.items()}
            draw(ax[1], per, {lab: [] for lab in per}, False)
            ax[1].set_ylabel("%s (%s%s)" % ("capacity per GPU" if by_size else "capacity", cap_units,
                                           " per GPU" if by_size else ""))
        for a in ax:
            a.set_ylim(bottom=0)
    else:
        done = lambda r: bool(r["evaluated"])  # noqa: E731
        lines, dots = frontier(cfgs, xkey, series, "slo_attainment", done)
        lines = {k: [(x, 100 * y, pd) for x, y, pd in v] for k, v in lines.items()}
        dots = {k: [(x, 100 * y) for x, y in v] for k, v in dots.items()}
        draw(ax[0], lines, dots, by_size)
        ax[0].axhline(100 * thr, ls="--", color="grey", lw=1)
        ax[0].set_ylabel("SLO attainment (%%; goal: >= %g%%)" % (100 * thr))
        lines, dots = frontier(cfgs, xkey, series, "throughput_tok_s", done)
        lines = {k: [(x, y / 1e6, pd) for x, y, pd in v] for k, v in lines.items()}
        dots = {k: [(x, y / 1e6) for x, y in v] for k, v in dots.items()}
        draw(ax[1], lines, dots, False)
        ax[1].set_ylabel("throughput (M %s)" % tput_units)
    for a in ax:
        a.set_xlabel(xlabel)
    fig.suptitle("%s: %s\n%s" % (name, goal, answer), fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
