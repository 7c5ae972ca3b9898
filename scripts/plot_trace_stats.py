#!/usr/bin/python3
"""The shape of a trace, from the profile `dualpath trace stats --plot` writes.

usage: plot_trace_stats.py OUT.png PROFILE.tsv

Top left: sessions by turns per session. Top right: mean input (context)
tokens at each turn of a session. Bottom left: distribution of the gap
before a follow-up turn (think + tool time) and of its tool part. Bottom
right: requests issued per second of recorded time.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    rows = {"turns": [], "context": [], "gap": [], "arrivals": []}
    source = path
    with open(path) as f:
        for line in f:
            if line.startswith("# dualpath trace profile of "):
                source = line[len("# dualpath trace profile of "):].strip()
                continue
            parts = line.rstrip("\n").split("\t")
            if parts and parts[0] in rows:
                rows[parts[0]].append([float(x) for x in parts[1:]])
    return source, rows


def cdf(ax, values, label):
    values = sorted(v for v in values if v > 0)
    if not values:
        return
    n = len(values)
    ax.plot(values, [(i + 1) / n for i in range(n)], label=label)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    png, tsv = sys.argv[1], sys.argv[2]
    source, r = read(tsv)
    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5))
    if r["turns"]:
        ax[0][0].bar([x[0] for x in r["turns"]], [x[1] for x in r["turns"]], width=1.0)
    ax[0][0].set_xlabel("turns per session (requests)")
    ax[0][0].set_ylabel("sessions")
    ax[0][0].set_title("Turns per session")
    if r["context"]:
        ax[0][1].plot([x[0] for x in r["context"]], [x[2] for x in r["context"]], marker=".")
    ax[0][1].set_xlabel("turn of the session (index, from 1)")
    ax[0][1].set_ylabel("mean input tokens (tokens)")
    ax[0][1].set_title("Context growth")
    cdf(ax[1][0], [x[0] for x in r["gap"]], "gap (think + tool)")
    cdf(ax[1][0], [x[1] for x in r["gap"]], "tool part")
    if r["gap"]:
        ax[1][0].set_xscale("log")
        ax[1][0].legend()
    else:
        ax[1][0].text(0.5, 0.5, "no follow-up turns (open-loop requests)",
                      ha="center", va="center", transform=ax[1][0].transAxes)
    ax[1][0].set_xlabel("gap before a follow-up turn (s)")
    ax[1][0].set_ylabel("fraction of gaps (CDF)")
    ax[1][0].set_title("Think and tool time")
    if r["arrivals"]:
        ax[1][1].plot([x[0] for x in r["arrivals"]], [x[1] for x in r["arrivals"]], lw=0.8)
    ax[1][1].set_xlabel("recorded time (s)")
    ax[1][1].set_ylabel("requests issued (per s)")
    ax[1][1].set_title("Arrivals")
    fig.suptitle(source)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    main()
