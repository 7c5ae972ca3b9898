/* Where a sweep's points are simulated.
 *
 * The pool: worker processes forked from the sweep command (fork + pipes),
 * each evaluating one point at a time; a point travels as its overrides
 * ("key=value" lines applied to the base scenario the worker inherited)
 * and comes back as a struct dp_sweep_res. Processes, not threads: a point
 * that crashes takes one worker, never the sweep's journal.
 *
 * The distribution (dist): the pool of this process, plus, when launched
 * under mpirun with more than one rank (and built with MPI), the pools of
 * the other ranks: rank 0 plans, deals points round-robin over the ranks'
 * free workers, gathers results and writes the table; the other ranks serve. */
#ifndef DP_SWEEP_POOL_H
#define DP_SWEEP_POOL_H

#include <stdint.h>
#include <sys/types.h>

#include "base/errors.h"
#include "core/scenario.h"
#include "sim/sweep_store.h"

/* Evaluate one point in this process: base + text, simulated. Never fails:
 * a point that cannot run comes back with status 1 and the reason. */
void dp_sweep_eval(const struct dp_scenario *base, const char *text, struct dp_sweep_res *res);

struct dp_worker {
    pid_t pid;
    int to, from;               /* request and result pipes */
    int busy;
    uint32_t id;
};

struct dp_pool {
    struct dp_worker *w;
    int n;
};

int dp_pool_start(struct dp_pool *p, int n, const struct dp_scenario *base, struct dp_err *err);
int dp_pool_idle(const struct dp_pool *p);
int dp_pool_submit(struct dp_pool *p, uint32_t id, const char *text, struct dp_err *err);
/* 1: a result (*id, *res); 0: none within timeout_ms; <0: a worker died. */
int dp_pool_wait(struct dp_pool *p, int timeout_ms, uint32_t *id, struct dp_sweep_res *res,
                 struct dp_err *err);
/* Close the pipes (idle workers exit), kill busy ones, reap all. */
void dp_pool_stop(struct dp_pool *p);

struct dp_dist {
    struct dp_pool pool;
    int mpi, rank, size;
    int *cap, *busy;            /* per rank: workers, and points out */
    uint32_t *count;            /* per rank: points computed (for the record) */
    int rr;                     /* round-robin position */
};

/* Whether this build can spread a sweep over MPI ranks. */
int dp_dist_mpi_built(void);
/* This process's rank before MPI starts, from the launcher's environment
 * (0 when not under mpirun): lets ranks other than 0 keep quiet. */
int dp_dist_env_rank(void);
/* Start `jobs` local workers; under mpirun with more than one rank, join
 * the other ranks. */
int dp_dist_open(struct dp_dist *d, int jobs, const struct dp_scenario *base, struct dp_err *err);
/* Ranks other than 0: evaluate what rank 0 sends until it says stop. */
int dp_dist_serve(struct dp_dist *d, struct dp_err *err);
int dp_dist_idle(const struct dp_dist *d);
int dp_dist_submit(struct dp_dist *d, uint32_t id, const char *text, struct dp_err *err);
/* 1: a result; 0: none within timeout_ms; <0: a worker or a rank failed. */
int dp_dist_wait(struct dp_dist *d, int timeout_ms, uint32_t *id, struct dp_sweep_res *res,
                 struct dp_err *err);
/* Stop every rank's workers and leave MPI. */
void dp_dist_close(struct dp_dist *d);

#endif
