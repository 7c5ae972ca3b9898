#!/usr/bin/python3
"""Plot a run's time series from its HDF5 results file.

usage: plot_timeseries.py OUT.png RESULTS.h5

Panels: storage NIC read utilisation per engine (prefill engines solid,
decode engines dashed), compute NIC utilisation, storage read queues, and
KV bytes held in HBM. Reads only the layout documented in core/h5out.c.
"""
import sys


def text(v):
    """HDF5 fixed-length strings come back as bytes."""
    return v.decode() if isinstance(v, bytes) else str(v)

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def smooth(y, n=3):
    if len(y) < n:
        return y
    out = []
    for i in range(len(y)):
        lo, hi = max(0, i - n + 1), i + 1
        out.append(sum(y[lo:hi]) / (hi - lo))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    png, path = sys.argv[1], sys.argv[2]
    with h5py.File(path, "r") as f:
        ts = f["timeseries"]
        t = ts["time"][:]
        role = f["engines/role"][:]
        title = "%s — policy %s" % (text(f.attrs["scenario_name"]), text(f.attrs["policy"]))
        series = {k: ts[k][:] for k in ("snic_rx_util", "cnic_rx_util", "read_queue_bytes",
                                        "hbm_kv_bytes")}
    n = len(role)
    show = [e for e in range(n)]
    if n > 16:  # large clusters: a few engines of each role
        pes = [e for e in range(n) if role[e] == 0][:4]
        des = [e for e in range(n) if role[e] == 1][:4]
        show = pes + des
    fig, axes = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
    panels = [("snic_rx_util", "storage NIC read util", 100, "%"),
              ("cnic_rx_util", "compute NIC in util", 100, "%"),
              ("read_queue_bytes", "storage read queue", 1e-9, "GB"),
              ("hbm_kv_bytes", "KV in HBM", 1e-9, "GB")]
    for ax, (key, label, scale, unit) in zip(axes, panels):
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
        ax.set_ylabel("%s (%s)" % (label, unit))
        ax.grid(alpha=0.3)
    axes[0].legend(ncol=8, fontsize=8, loc="upper right")
    axes[0].set_title(title)
    axes[-1].set_xlabel("simulated time (s)")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


if __name__ == "__main__":
    main()
