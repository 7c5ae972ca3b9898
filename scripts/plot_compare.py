#!/usr/bin/python3
"""One figure comparing policies run on the same workload.

usage: plot_compare.py OUT.png RESULTS-POLICY1.h5 RESULTS-POLICY2.h5 ...

Left: throughput relative to the first policy. Middle: TTFT p50/p99 (s).
Right: mean storage NIC read utilisation of prefill vs decode engines (%).
A run that was interrupted is labelled so.
"""
import sys

import matplotlib

from plotlib import legend_below, open_kind, text

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SCRIPT = "plot_compare.py"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    png, files = sys.argv[1], sys.argv[2:]
    names, tput, ttft50, ttft99, pe_snic, de_snic = [], [], [], [], [], []
    scen = ""
    for path in files:
        with open_kind(SCRIPT, path, "run") as f:
            s = f["summary"].attrs
            name = text(f.attrs["policy"])
            if int(f.attrs["complete"]) == 0:
                name += "\n(interrupted)"
            names.append(name)
            scen = text(f.attrs["scenario_name"])
            tput.append(float(s["throughput_tok_s"]))
            ttft50.append(float(s["ttft_p50_s"]))
            ttft99.append(float(s["ttft_p99_s"]))
            pe_snic.append(100 * float(s["pe_snic_util"]))
            de_snic.append(100 * float(s["de_snic_util"]))
    base = tput[0] or 1.0
    x = range(len(names))
    fig, ax = plt.subplots(1, 3, figsize=(13, 4.5))
    bars = ax[0].bar(x, [v / base for v in tput], color="tab:blue")
    for b, v in zip(bars, tput):
        ax[0].text(b.get_x() + b.get_width() / 2, b.get_height(), "%.2fx" % (v / base),
                   ha="center", va="bottom")
    ax[0].set_ylabel("throughput / %s's (x)" % names[0].split("\n")[0])
    ax[0].set_ylim(0, max(v / base for v in tput) * 1.15)
    w = 0.38
    ax[1].bar([i - w / 2 for i in x], ttft50, w, label="TTFT p50")
    ax[1].bar([i + w / 2 for i in x], ttft99, w, label="TTFT p99")
    ax[1].set_ylabel("time to first token (s)")
    ax[2].bar([i - w / 2 for i in x], pe_snic, w, label="prefill engines")
    ax[2].bar([i + w / 2 for i in x], de_snic, w, label="decode engines")
    ax[2].set_ylabel("storage NIC read utilisation (%)")
    for a in ax:
        a.set_xticks(list(x))
        a.set_xticklabels(names)
        a.grid(axis="y", alpha=0.3)
        legend_below(a, ncol=2)
    fig.suptitle("%s: policies compared on one workload" % scen)
    fig.tight_layout()
    fig.savefig(png, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
