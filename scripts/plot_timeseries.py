#!/usr/bin/python3
"""Plot a run's time series from its HDF5 results file.

usage: plot_timeseries.py OUT.png RESULTS.h5

Panels: storage NIC read utilisation per engine (prefill engines solid,
decode engines dashed), compute NIC utilisation, storage read queues, and
KV bytes held in HBM, against simulated time. Reads only the layout
documented in core/h5out.c; axis units come from the file's attributes.
"""
import sys

import matplotlib

from plotlib import legend_below, open_kind, text, units

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SCRIPT = "plot_timeseries.py"


def smooth(y, n=3):
    if len(y) < n:
        return y
    out = []
    for i in range(len(y)):
        lo, hi = max(0, i - n + 1), i + 1
        out.append(sum(y[lo:hi]) / (hi - lo))
    return out


def scaled(unit):
    """How a recorded unit is shown: fractions as %, bytes as GB."""
    if unit.startswith("fraction"):
        return 100, "%"
    if unit == "bytes":
        return 1e-9, "GB"
    return 1, unit


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    png, path = sys.argv[1], sys.argv[2]
    with open_kind(SCRIPT, path, "run") as f:
        ts = f["timeseries"]
        t = ts["time"][:]
        tunit = units(ts["time"], default="s")
        role = f["engines/role"][:]
        title = "%s, policy %s" % (text(f.attrs["scenario_name"]), text(f.attrs["policy"]))
        if int(f.attrs["complete"]) == 0:
            title += " (interrupted: the run so far)"
        keys = ("snic_rx_util", "cnic_rx_util", "read_queue_bytes", "hbm_kv_bytes")
        series = {k: ts[k][:] for k in keys}
        unit = {k: units(ts[k], default="fraction" if k.endswith("util") else "bytes") for k in keys}
    n = len(role)
    show = list(range(n))
    if n > 16:  # large clusters: a few engines of each role
        pes = [e for e in range(n) if role[e] == 0][:4]
        des = [e for e in range(n) if role[e] == 1][:4]
        show = pes + des
    fig, axes = plt.subplots(4, 1, figsize=(10, 11.5), sharex=True)
    panels = [("snic_rx_util", "storage NIC read util"), ("cnic_rx_util", "compute NIC in util"),
              ("read_queue_bytes", "storage read queue"), ("hbm_kv_bytes", "KV in HBM")]
    for ax, (key, label) in zip(axes, panels):
        scale, shown = scaled(unit[key])
        y = series[key]
        pe_i = de_i = 0
        for e in show:
            pe = role[e] == 0
            name = ("PE%d" % pe_i) if pe else ("DE%d" % de_i)
            if pe:
                pe_i += 1
            else:
                de_i += 1
            ax.plot(t, smooth([v * scale for v in y[:, e]]), "-" if pe else "--", label=name,
                    linewidth=1.2)
        ax.set_ylabel("%s (%s)" % (label, shown))
        ax.grid(alpha=0.3)
    axes[0].set_title(title)
    axes[-1].set_xlabel("simulated time (%s)" % tunit)
    legend_below(axes[-1], ncol=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110, bbox_inches="tight")


if __name__ == "__main__":
    main()
