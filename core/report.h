/* Presenting a run's results: the summary table on stdout and the HDF5
 * results file (per-request records, time series, summary, the resolved
 * scenario). Both platforms use the same writers. */
#ifndef DP_REPORT_H
#define DP_REPORT_H

#include <stdio.h>

#include "base/errors.h"
#include "core/metrics.h"
#include "core/scenario.h"

struct dp_run_info {
    const struct dp_scenario *sc;
    const char *platform;       /* "sim" or "hw" */
    const char *workload_source;
    const struct dp_metrics *m;
    const struct dp_engine_caps *caps;
    uint32_t n_pe, n_de;
    struct dp_summary summary;
    double wall_s;
    uint64_t events;            /* simulator events (0 on hardware) */
};

/* Fill info->caps-based summary. */
int dp_report_summarize(struct dp_run_info *info);
void dp_report_print(FILE *out, const struct dp_run_info *info);
/* Check, before any work, that PATH can take a results file: not empty,
 * not ending in '/', not a folder or other non-file, its folder there and
 * taking new files (probed by creating and removing PATH.tmp.PID, the name
 * the writers use first). The error says why in one line; example is a file
 * name to suggest inside a folder (e.g. "quickstart.h5"). */
int dp_output_check(const char *path, const char *example, struct dp_err *err);
/* The same for an output prefix (PREFIX-x.h5, PREFIX.png...): it must name
 * a file stem, not a folder ("out/", ".", ".."); the files made from it are
 * checked with dp_output_check by the caller. */
int dp_prefix_check(const char *prefix, const char *example, struct dp_err *err);
/* Write PATH via PATH.tmp and rename; nothing is left under PATH on error. */
int dp_h5_write(const char *path, const struct dp_run_info *info, struct dp_err *err);

#endif
