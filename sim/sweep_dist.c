/* Spreading sweep points over this process's workers and, under mpirun,
 * over the workers of every rank (see sweep_pool.h). DP_HAVE_MPI is
 * defined for this file when CMake found MPI (DP_WITH_MPI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sweep_pool.h"

#ifdef DP_HAVE_MPI
#include <mpi.h>
#endif

enum { TAG_WORK = 1, TAG_RESULT = 2, TAG_STOP = 3 };

struct res_wire {
    uint32_t id, pad;
    struct dp_sweep_res res;
};

static int env_int(const char *const *names, int dflt)
{
    for (; *names; names++) {
        const char *v = getenv(*names);
        if (v && *v)
            return atoi(v);
    }
    return dflt;
}

static const char *const size_vars[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", NULL };
static const char *const rank_vars[] = { "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", NULL };

int dp_dist_env_rank(void)
{
    return env_int(rank_vars, 0);
}

int dp_dist_mpi_built(void)
{
#ifdef DP_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

static int alloc_ranks(struct dp_dist *d, struct dp_err *err)
{
    d->cap = calloc((size_t)d->size, sizeof *d->cap);
    d->busy = calloc((size_t)d->size, sizeof *d->busy);
    d->count = calloc((size_t)d->size, sizeof *d->count);
    if (!d->cap || !d->busy || !d->count)
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    return 0;
}

int dp_dist_open(struct dp_dist *d, int jobs, const struct dp_scenario *base, struct dp_err *err)
{
    memset(d, 0, sizeof *d);
    d->size = 1;
    int env_size = env_int(size_vars, 1);
#ifndef DP_HAVE_MPI
    if (env_size > 1)
        return dp_err_set(err, DP_ENODEV, "sweep: launched under mpirun with %d ranks, but this dualpath was built without MPI "
                          "(install libopenmpi-dev and reconfigure with -DDP_WITH_MPI=ON)", env_size);
#endif
    /* workers first: they are forked before MPI starts, and never use it */
    int rc = dp_pool_start(&d->pool, jobs, base, err);
    if (rc)
        return rc;
#ifdef DP_HAVE_MPI
    if (env_size > 1) {
        MPI_Init(NULL, NULL);
        MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &d->size);
        d->mpi = 1;
    }
#endif
    if (alloc_ranks(d, err))
        return DP_ENOMEM;
    d->cap[0] = jobs;
#ifdef DP_HAVE_MPI
    if (d->mpi)   /* each rank may have its own -j */
        MPI_Gather(&jobs, 1, MPI_INT, d->cap, 1, MPI_INT, 0, MPI_COMM_WORLD);
#endif
    return 0;
}

int dp_dist_idle(const struct dp_dist *d)
{
    int k = 0;
    for (int r = 0; r < d->size; r++)
        k += d->cap[r] - d->busy[r];
    return k;
}

int dp_dist_submit(struct dp_dist *d, uint32_t id, const char *text, struct dp_err *err)
{
    for (int i = 0; i < d->size; i++) {
        int r = (d->rr + i) % d->size;
        if (d->busy[r] >= d->cap[r])
            continue;
        d->rr = (r + 1) % d->size;   /* deal round-robin over the ranks */
        int rc = 0;
        if (r == 0)
            rc = dp_pool_submit(&d->pool, id, text, err);
#ifdef DP_HAVE_MPI
        else {
            size_t len = strlen(text) + 1;
            char *buf = malloc(len + 4);
            if (!buf)
                return dp_err_set(err, DP_ENOMEM, "out of memory");
            memcpy(buf, &id, 4);
            memcpy(buf + 4, text, len);
            rc = MPI_Send(buf, (int)(len + 4), MPI_BYTE, r, TAG_WORK, MPI_COMM_WORLD) != MPI_SUCCESS
                     ? dp_err_set(err, DP_EIO, "sweep: cannot send a point to rank %d", r) : 0;
            free(buf);
        }
#endif
        if (!rc)
            d->busy[r]++;
        return rc;
    }
    return dp_err_set(err, DP_ESTATE, "sweep: no idle worker on any rank (a bug)");
}

/* A result from another rank, if one is waiting. */
static int remote_result(struct dp_dist *d, uint32_t *id, struct dp_sweep_res *res,
                         struct dp_err *err)
{
#ifdef DP_HAVE_MPI
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
    if (!flag)
        return 0;
    struct res_wire m;
    MPI_Recv(&m, sizeof m, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    d->busy[st.MPI_SOURCE]--;
    if (m.res.status < 0)
        return dp_err_set(err, DP_EIO, "sweep: rank %d: %s", st.MPI_SOURCE, m.res.err);
    d->count[st.MPI_SOURCE]++;
    *id = m.id;
    *res = m.res;
    res->rank = st.MPI_SOURCE;
    return 1;
#else
    return 0;
#endif
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int dp_dist_wait(struct dp_dist *d, int timeout_ms, uint32_t *id, struct dp_sweep_res *res,
                 struct dp_err *err)
{
    double end = now_ms() + timeout_ms;
    for (;;) {
        /* short polls while other ranks may answer; MPI has no fd to poll */
        int slice = d->mpi ? 2 : timeout_ms;
        int rc = dp_pool_wait(&d->pool, slice, id, res, err);
        if (rc == 1) {
            d->busy[0]--;
            d->count[0]++;
            res->rank = 0;
        }
        if (rc)
            return rc;
        rc = d->mpi ? remote_result(d, id, res, err) : 0;
        if (rc || now_ms() >= end)
            return rc;
    }
}

int dp_dist_serve(struct dp_dist *d, struct dp_err *err)
{
#ifdef DP_HAVE_MPI
    int failed = 0;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (flag && st.MPI_TAG == TAG_STOP) {
            MPI_Recv(NULL, 0, MPI_BYTE, 0, TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            return 0;
        }
        if (flag) {
            int n = 0;
            MPI_Get_count(&st, MPI_BYTE, &n);
            char *buf = malloc((size_t)n + 1);
            if (!buf)
                return dp_err_set(err, DP_ENOMEM, "out of memory");
            MPI_Recv(buf, n, MPI_BYTE, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            buf[n] = 0;
            uint32_t id;
            memcpy(&id, buf, 4);
            struct dp_err e = { "" };
            int rc = failed ? -1 : dp_pool_submit(&d->pool, id, buf + 4, &e);
            free(buf);
            if (rc) {   /* rank 0 hears of it as a failed result and stops the sweep */
                struct res_wire m = { id, 0, { .status = -1 } };
                snprintf(m.res.err, sizeof m.res.err, "%s", e.msg[0] ? e.msg : "a worker failed");
                MPI_Send(&m, sizeof m, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
                failed = 1;
            }
            continue;
        }
        struct res_wire m;
        memset(&m, 0, sizeof m);
        struct dp_err e = { "" };
        int rc = failed ? 0 : dp_pool_wait(&d->pool, 2, &m.id, &m.res, &e);
        if (rc < 0) {
            m.res.status = -1;
            snprintf(m.res.err, sizeof m.res.err, "%s", e.msg);
            failed = 1;
        }
        if (rc)
            MPI_Send(&m, sizeof m, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
        else if (failed) {
            struct timespec ts = { 0, 2000000 };
            nanosleep(&ts, NULL);
        }
    }
#else
    return 0;
#endif
}

void dp_dist_close(struct dp_dist *d)
{
#ifdef DP_HAVE_MPI
    if (d->mpi && d->rank == 0)
        for (int r = 1; r < d->size; r++)
            MPI_Send(NULL, 0, MPI_BYTE, r, TAG_STOP, MPI_COMM_WORLD);
#endif
    dp_pool_stop(&d->pool);
#ifdef DP_HAVE_MPI
    if (d->mpi)
        MPI_Finalize();
#endif
    free(d->cap);
    free(d->busy);
    free(d->count);
    d->cap = d->busy = NULL;
    d->count = NULL;
}
