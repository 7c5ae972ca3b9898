/* What a sweep keeps on disk:
 *  - the journal, PREFIX.journal: one line per finished point, appended and
 *    fsync'd as each point finishes, keyed by the point's hash (every
 *    resolved scenario value), so an interrupted sweep loses nothing and
 *    `--resume` recomputes nothing;
 *  - the results table, PREFIX.h5 and PREFIX.csv, written once at the end
 *    (or when the sweep is interrupted) under a temporary name and renamed. Layout of PREFIX.h5:
 *      /          attributes: dualpath_version, scenario_name, goal, slo_attainment,
 *                 rate_key, rate_lo, rate_hi, tolerance, varied (keys, one a line), answer,
 *                 complete (1; 0 for an interrupted sweep, whose table holds the
 *                 points finished so far and whose unfinished searches have no capacity)
 *      /points    one row per point, in (configuration, probe) order: point, config,
 *                 probe, gpus, prefill_engines, decode_engines, each varied key (text),
 *                 the rate key (max_rate), meets_slo, status, every summary figure
 *      /configs   one row per configuration: config, gpus, prefill_engines,
 *                 decode_engines, each varied key, evaluated, meets_slo, capacity,
 *                 capped, probes, and the figures of its representative point
 *                 (its only point; for max_rate the one at capacity)
 *    PREFIX.csv holds /points. No wall times are stored: the same sweep
 *    writes the same bytes whatever the worker count or the ranks. */
#ifndef DP_SWEEP_STORE_H
#define DP_SWEEP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/errors.h"
#include "core/metrics.h"
#include "sim/sweep_spec.h"

/* One point's outcome, as a worker returns it and the journal keeps it. */
struct dp_sweep_res {
    int32_t status;             /* 0: simulated; 1: the simulation failed (err says why) */
    int32_t rank;               /* the MPI rank that computed it (not stored) */
    double wall_s;              /* not stored in the table */
    struct dp_summary s;
    char err[200];
};

struct dp_journal {
    int fd;
    char path[600];
};

typedef int (*dp_journal_fn)(void *ctx, uint64_t hash, const struct dp_sweep_res *r);
/* Open PREFIX.journal for appending, locked against a second sweep. With
 * resume, hand every complete line to fn first (a torn last line from a
 * kill is skipped); without, an existing journal is an error unless
 * restart says to start over. */
int dp_journal_open(struct dp_journal *j, const char *prefix, int resume, int restart,
                    dp_journal_fn fn, void *ctx, struct dp_err *err);
/* Append one point and fsync: after this returns, the point survives a kill. */
int dp_journal_append(struct dp_journal *j, uint64_t hash, const struct dp_sweep_res *r,
                      const char *label, struct dp_err *err);
void dp_journal_close(struct dp_journal *j);

struct dp_sweep_row {
    uint64_t cfg;
    uint32_t seq;
    double rate;                /* max_rate: the rate probed */
    uint32_t gpus, pe, de;
    int meets;
    const struct dp_sweep_res *res;
};

struct dp_sweep_cfgrow {
    uint64_t cfg;
    uint32_t gpus, pe, de;
    int evaluated, meets, capped;
    double capacity;            /* max_rate: largest rate within SLO (0: none) */
    uint32_t probes;
    const struct dp_sweep_res *res;   /* representative point, or NULL */
};

struct dp_sweep_table {
    const struct dp_sweep_spec *sp;
    const char *scenario_name;
    const struct dp_sweep_row *rows;
    size_t n_rows;
    const struct dp_sweep_cfgrow *cfgs;
    size_t n_cfgs;
    const char *answer;         /* the goal's answer, one or more lines */
    int complete;               /* 0: an interrupted sweep's finished points so far */
};

/* Write PREFIX.h5 and PREFIX.csv. */
int dp_sweep_write(const char *prefix, const struct dp_sweep_table *t, struct dp_err *err);

#endif
