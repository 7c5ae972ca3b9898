/* Presenting a run's results: the summary table on stdout and the HDF5
 * results file (per-request records, time series, summary, the resolved
 * scenario). Both platforms use the same writers. */
#ifndef DP_REPORT_H
#define DP_REPORT_H

#include <stdio.h>

#include "core/errors.h"
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
/* Write PATH via PATH.tmp and rename; nothing is left under PATH on error. */
int dp_h5_write(const char *path, const struct dp_run_info *info, struct dp_err *err);

#endif
