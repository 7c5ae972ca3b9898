/* Plots are drawn by the Python scripts in scripts/ (matplotlib + h5py from
 * Debian) from the HDF5 results; the front end calls them when present. */
#ifndef DP_PLOT_H
#define DP_PLOT_H

/* Run scripts/SCRIPT OUT.png FILE... ; 0 on success, -1 (with a note on
 * stderr) when Python or matplotlib is missing: plots are optional. */
int dp_plot(const char *script, const char *png, const char *const *files, int n);

#endif
