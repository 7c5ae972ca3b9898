/* Running one scenario on the simulator: build the workload, the cluster and
 * the core, drive the event loop, hand back the results. Shared by the
 * `run`, `compare` and `sweep` commands. */
#ifndef DP_SIM_RUN_H
#define DP_SIM_RUN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "core/metrics.h"
#include "core/report.h"
#include "core/scenario.h"
#include "traces/workload.h"

struct dp_sim_opts {
    int progress;                    /* show progress on stderr */
    const char *label;               /* shown in the progress line */
    volatile sig_atomic_t *interrupt;/* set by a signal handler: stop at the next event */
    /* Called once, when the event count reaches hook_at (0: never): lets a
     * test stop the run at a known point and signal it there. */
    uint64_t hook_at;
    void (*hook)(uint64_t events);
};

struct dp_sim_result {
    struct dp_metrics metrics;       /* owned: free with dp_sim_result_free */
    struct dp_engine_caps *caps;
    uint32_t n_pe, n_de;
    uint64_t events;
    double wall_s;
    int interrupted;
    /* the invariant checks (sim/invariants.h), when they ran: events, link
     * settles and engine states checked, and whether the end-of-run checks
     * (every request once, drained, bytes conserved) ran and passed */
    int checked, checked_end;
    uint64_t check_events, check_links, check_engines;
};

int dp_sim_run(const struct dp_scenario *sc, const struct dp_workload *w,
               const struct dp_sim_opts *opts, struct dp_sim_result *res, struct dp_err *err);
void dp_sim_result_free(struct dp_sim_result *res);
/* The event loop alone, for a caller that made the simulator (dp_sim_init,
 * s->core set) and a core on it with ops of its own (tests/unit/
 * test_conformance.c puts a checking layer between core and dp_sim_ops).
 * Runs until the core is done; 0 or the first error. */
struct dp_sim;
struct dp_core;
int dp_sim_drive(struct dp_sim *s, struct dp_core *core, struct dp_err *err);
/* One line saying which invariant checks ran (nothing when they were off). */
void dp_sim_result_checks(FILE *out, const struct dp_sim_result *res);
/* Fill a run info for the report writers. */
void dp_sim_result_info(const struct dp_sim_result *res, const struct dp_scenario *sc,
                        const char *source, struct dp_run_info *info);

#endif
