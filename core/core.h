/* The core: request and session state, the global scheduler, engines'
 * batching, the traffic manager, metrics. Runs unchanged on any platform
 * (see platform.h for the seam). */
#ifndef DP_CORE_H
#define DP_CORE_H

#include <stdint.h>

#include "base/errors.h"
#include "core/platform.h"
#include "core/scenario.h"
#include "traces/workload.h"

struct dp_core;
struct dp_metrics;

/* Create a core for a scenario and workload, driving the platform through
 * ops (copied; optional ops left NULL get a no-op default, a required one
 * left NULL is an error). The scenario and workload must outlive the core. */
int dp_core_create(struct dp_core **out, const struct dp_scenario *sc,
                   const struct dp_workload *w, const struct dp_platform_ops *ops,
                   void *plat, struct dp_err *err);
/* Releases (ops->release) the requests a stopped run left live: destroy the
 * core before the platform. */
void dp_core_destroy(struct dp_core *c);

/* Schedule the workload's first arrivals and the metrics sampler. */
int dp_core_start(struct dp_core *c);

/* platform -> core: completions. Each descriptor comes back exactly once,
 * with its status set, never from inside an op call (platform.h, rules);
 * core checks, and a broken rule stops the run with DP_ESTATE. */
void dp_core_on_transfer_done(struct dp_core *c, struct dp_xfer *x);
void dp_core_on_compute_done(struct dp_core *c, struct dp_compute *k);
void dp_core_on_timer(struct dp_core *c, struct dp_timer *t);

/* Stop the run now (it was interrupted): a last sample brings the time
 * series, the byte counters and the metrics' end_s to the present instant,
 * so the results so far are over one time basis. */
void dp_core_stop(struct dp_core *c);
/* 1 when every session has finished (offline) or the run's end is reached. */
int dp_core_done(const struct dp_core *c);
/* Requests finished / issued so far (progress display). */
uint64_t dp_core_requests_done(const struct dp_core *c);
uint64_t dp_core_requests_total(const struct dp_core *c);
/* Results so far; owned by the core. */
struct dp_metrics *dp_core_metrics(struct dp_core *c);
/* First fatal error (a platform op failed beyond retry), or 0. */
int dp_core_error(const struct dp_core *c, struct dp_err *err);
/* What crossed the seam so far (the conformance test's figures). */
struct dp_seam_stats {
    uint64_t moves, computes, timers;            /* issued and accepted */
    uint64_t moves_done, computes_done, timers_done;
    uint64_t moves_failed, computes_failed;      /* completed with status < 0 */
    uint64_t releases;                           /* ops->release calls */
    uint64_t requests;                           /* requests issued */
};
void dp_core_seam_stats(const struct dp_core *c, struct dp_seam_stats *s);
/* The engines, PEs then DEs, *n of them: read-only (sim/invariants.c). */
struct dp_engine;
const struct dp_engine *dp_core_engines(const struct dp_core *c, uint32_t *n);

#endif
