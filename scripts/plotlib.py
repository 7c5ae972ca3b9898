"""What the plot scripts share: opening a DualPath HDF5 file of the expected
kind (a clear one-line error otherwise, never a traceback), reading the
units the file records, and legends that do not cover the data."""
import sys

import h5py

# The group or dataset each kind of file has, and the script that plots it.
KINDS = {
    "run": ("timeseries", "scripts/plot_timeseries.py (or plot_compare.py for several runs)"),
    "sweep": ("configs", "scripts/plot_sweep.py"),
}


def text(v):
    """HDF5 fixed-length strings come back as bytes."""
    return v.decode() if isinstance(v, bytes) else str(v)


def fail(script, msg):
    sys.stderr.write("%s: %s\n" % (script, msg))
    sys.exit(2)


def open_kind(script, path, kind):
    """Open path, which must be a file of this kind ("run" or "sweep")."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        fail(script, "%s: cannot read it as HDF5 (%s)" % (path, e))
    if KINDS[kind][0] not in f:
        for other, (obj, plotter) in KINDS.items():
            if other != kind and obj in f:
                fail(script, "%s holds a %s's results, not a %s's: plot it with %s" %
                     (path, "sweep" if other == "sweep" else "single run", kind, plotter))
        fail(script, "%s is not a DualPath %s results file (no /%s)" % (path, kind, KINDS[kind][0]))
    return f


def units(obj, column=None, default=""):
    """The units an object (or a column of it) records, e.g. 's'."""
    key = "%s.units" % column if column else "units"
    return text(obj.attrs[key]) if key in obj.attrs else default


def legend_below(ax, ncol=2):
    """A legend under the axes: it never hides a point."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, ncol=ncol, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  frameon=False)
