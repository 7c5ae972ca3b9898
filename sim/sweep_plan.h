/* Which points to simulate next, for each kind of goal. Pure logic over
 * results fed back (met the SLO or not): no simulation, no I/O, so the
 * searches can be checked against hand-computed answers (tests/unit/test_sweep.c).
 *
 * The order of the table is fixed by (configuration, probe number), never
 * by the order results come back, so any number of workers gives the same
 * table; a probe's rate depends only on the results of its configuration's
 * earlier probes. */
#ifndef DP_SWEEP_PLAN_H
#define DP_SWEEP_PLAN_H

#include <stdint.h>

#include "sim/sweep_spec.h"

/* The largest rate a configuration serves within SLO: exponential
 * bracketing from lo (doubling until a probe fails or hi passes), then
 * bisection until the bracket is within the relative tolerance. Assumes
 * SLO attainment falls as the rate grows. */
struct dp_rate_search {
    double lo, hi, tol;
    int integer;        /* probe whole numbers only (agents) */
    double ok;          /* largest rate that met the SLO (0: none yet) */
    double bad;         /* smallest rate that did not (INFINITY: none yet) */
    uint32_t probes;
};
void dp_rate_search_init(struct dp_rate_search *s, double lo, double hi, double tol, int integer);
/* 1 and *rate: probe this next; 0: the search is over. */
int dp_rate_search_next(const struct dp_rate_search *s, double *rate);
void dp_rate_search_feed(struct dp_rate_search *s, double rate, int pass);
/* The answer: the largest rate probed that met the SLO, 0 if not even lo
 * did; *capped = 1 when hi itself met it (the capacity is hi or more). */
double dp_rate_search_answer(const struct dp_rate_search *s, int *capped);

struct dp_probe {
    uint64_t cfg;       /* configuration index */
    uint32_t seq;       /* the probe's number within its configuration */
    double rate;        /* max_rate: the rate probed; otherwise unused */
};

struct dp_plan {
    enum dp_goal_kind kind;
    uint64_t n;                 /* configurations */
    uint32_t *gpus;             /* owned copy: GPUs of each configuration */
    uint8_t *running;           /* per configuration: a probe is out */
    struct dp_rate_search *rs;  /* max_rate: one search per configuration */
    uint64_t *order;            /* min_gpus: configurations by GPUs, then index */
    uint64_t next;              /* grid/min_gpus: next in order; max_rate: first unfinished */
    uint64_t in_flight;
    uint32_t best_gpus;         /* min_gpus: fewest GPUs seen within SLO (UINT32_MAX: none) */
};

int dp_plan_init(struct dp_plan *p, const struct dp_sweep_goal *g, uint64_t n,
                 const uint32_t *gpus);
void dp_plan_free(struct dp_plan *p);
/* 1: evaluate *pr; 0: nothing until a result comes back; -1: complete. */
int dp_plan_next(struct dp_plan *p, struct dp_probe *pr);
void dp_plan_feed(struct dp_plan *p, const struct dp_probe *pr, int pass);
/* Whether configuration cfg's rows belong in the table: min_gpus leaves out
 * configurations with more GPUs than the answer (evaluated only because
 * workers ran ahead), so the table does not depend on the worker count. */
int dp_plan_keeps(const struct dp_plan *p, uint64_t cfg);

/* Run the plan to the end, one point at a time, through eval (which sets
 * *pass, and returns non-zero to stop). Returns eval's non-zero or 0. */
typedef int (*dp_plan_eval_fn)(void *ctx, const struct dp_probe *pr, int *pass);
int dp_plan_run(struct dp_plan *p, dp_plan_eval_fn eval, void *ctx);

#endif
