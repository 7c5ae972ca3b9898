/* struct dp_platform_ops on CUDA GPUs and files (platform_cuda.h): the ops
 * table, time and timers, the progress loop, setup and teardown. Data
 * movement is in platform_cuda_move.c, compute in platform_cuda_compute.c,
 * arenas and records in platform_cuda_mem.c; what they share, and the
 * platform's rules, in platform_cuda_impl.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/request.h"
#include "hw/platform_cuda_impl.h"

/* ---- failures ------------------------------------------------------------------ */

int hw_fail(struct dp_hwplat *p, int code, const char *what, const char *msg)
{
    if (!p->failed) {
        p->failed = code ? code : DP_EIO;
        dp_err_set(&p->ferr, p->failed, "%s: %s", what, msg);
    }
    return p->failed;
}

int hw_op_fail(struct dp_hwplat *p, struct hw_op *op, int code, const char *msg)
{
    if (!op->status) {
        op->status = code ? code : DP_EIO;
        p->st.ops_failed++;
        if (!p->st.op_failure[0])
            snprintf(p->st.op_failure, sizeof p->st.op_failure, "%s", msg);
    }
    return op->status;
}

int hw_cuda_at(struct dp_hwplat *p, cudaError_t rc, const char *call, const char *file, int line)
{
    struct dp_err e;
    int code = dp_cuda_check(&e, rc, call, file, line);
    return code ? hw_fail(p, code, "hw", e.msg) : 0;
}

int hw_cublas_at(struct dp_hwplat *p, int status, const char *call, const char *file, int line)
{
    struct dp_err e;
    int code = dp_cublas_check(&e, status, call, file, line);
    return code ? hw_fail(p, code, "hw", e.msg) : 0;
}

/* ---- time and timers ---------------------------------------------------------- */

static dp_time_t hw_now(void *pp)
{
    struct dp_hwplat *p = pp;
    return dp_clock_ns() - p->t0;
}

static void timer_fired(struct dp_ev *ev, void *ctx)
{
    struct hw_tmr *tm = ctx;
    struct dp_hwplat *p = tm->p;
    struct dp_timer *t = tm->t;
    tm->next = p->free_tmrs;
    p->free_tmrs = tm;
    dp_core_on_timer(p->core, t);
}

static int hw_timer(void *pp, struct dp_timer *t)
{
    struct dp_hwplat *p = pp;
    struct hw_tmr *tm = p->free_tmrs;
    if (tm)
        p->free_tmrs = tm->next;
    else if (!(tm = malloc(sizeof *tm)))
        return DP_ENOMEM;
    tm->t = t;
    tm->p = p;
    dp_ev_init(&tm->ev, timer_fired, tm);
    int rc = dp_evq_schedule(&p->timers, &tm->ev, t->at);
    if (rc) {
        tm->next = p->free_tmrs;
        p->free_tmrs = tm;
    }
    return rc;
}

static void hw_counters(void *pp, int32_t engine, struct dp_link_counters *out)
{
    struct dp_hwplat *p = pp;
    *out = p->eng[engine].ctr;
}

const struct dp_platform_ops dp_hw_ops = {
    .name = "hw",
    .now = hw_now,
    .move = hw_move,
    .compute = hw_compute,
    .timer = hw_timer,
    .counters = hw_counters,
    .release = hw_release,
};

/* ---- the progress loop --------------------------------------------------------- */

/* Advance ops whose GPU part finished; a finished write-back's first stage
 * turns into its I/O stage. */
static void poll_gpu(struct dp_hwplat *p)
{
    for (struct hw_op *op = p->live; op && !p->failed; op = op->next) {
        if (!op->wait_ev)
            continue;
        cudaError_t rc = cudaEventQuery(op->ev[op->e->dev]);
        if (rc == cudaErrorNotReady)
            continue;
        if (HW_CUDA(p, rc))
            return;
        op->wait_ev = 0;
        if (op->x && op->x->kind == DP_X_STORAGE_WRITE && op->stage == 0)
            hw_write_stage2(p, op);
        else
            op->done = 1;
    }
}

static int poll_io(struct dp_hwplat *p, uint64_t wait_ns)
{
    struct dp_store_req *r = wait_ns ? dp_store_pool_wait(p->pool, wait_ns)
                                     : dp_store_pool_poll(p->pool);
    int n = 0;
    for (; r; r = r->next, n++) {
        struct hw_op *op = r->user;
        if (r->status)   /* a block the store could not read or write: this op's */
            hw_op_fail(p, op, r->status, r->msg);
        if (--op->io_pending == 0)
            op->done = 1;
    }
    return n;
}

/* Finish one completed op: bookkeeping and its status, then core's
 * callback, after which the descriptor is core's again (the callback may
 * release the request it belongs to). */
static void complete(struct dp_hwplat *p, struct hw_op *op)
{
    if (op->k) {
        if (hw_compute_time(p, op))
            return;
        op->k->status = (int8_t)op->status;
        dp_core_on_compute_done(p->core, op->k);
        return;
    }
    hw_xfer_finish(p, op);
    op->x->status = (int8_t)op->status;
    dp_core_on_transfer_done(p->core, op->x);
}

/* Take the done ops off the live list first: callbacks add new ones. */
static int reap(struct dp_hwplat *p)
{
    struct hw_op *done = NULL, **pp = &p->live;
    while (*pp) {
        struct hw_op *op = *pp;
        if (op->done && !op->wait_ev && !op->io_pending) {
            *pp = op->next;
            op->next = done;
            done = op;
        } else {
            pp = &op->next;
        }
    }
    int n = 0;
    while (done && !p->failed) {
        struct hw_op *op = done;
        done = op->next;
        complete(p, op);
        op->next = p->free_ops;
        p->free_ops = op;
        n++;
    }
    while (done) {   /* a failure mid-way: recycle the rest unreported */
        struct hw_op *op = done;
        done = op->next;
        op->next = p->free_ops;
        p->free_ops = op;
    }
    return n;
}

static int fire_timers(struct dp_hwplat *p)
{
    int n = 0;
    struct dp_ev *ev;
    while ((ev = dp_evq_peek(&p->timers)) && ev->t <= hw_now(p) && !p->failed) {
        dp_evq_pop(&p->timers);
        ev->fn(ev, ev->ctx);
        n++;
    }
    return n;
}

static void show_progress(struct dp_hwplat *p, int final)
{
    fprintf(stderr, "\rhw t=%.1fs  requests %llu/%llu  ops in flight %s%s",
            (double)hw_now(p) / 1e9, (unsigned long long)dp_core_requests_done(p->core),
            (unsigned long long)dp_core_requests_total(p->core), p->live ? "yes" : "no ",
            final ? "\n" : "   ");
}

int dp_hwplat_loop(struct dp_hwplat *p, volatile sig_atomic_t *interrupt, struct dp_err *err)
{
    uint64_t next_show = dp_clock_ns() + 500000000ULL;
    while (!dp_core_done(p->core) && !p->failed) {
        if (interrupt && *interrupt)
            return dp_err_set(err, DP_EINTR, "interrupted at t=%.3f s", hw_now(p) / 1e9);
        int crc = dp_core_error(p->core, err);
        if (crc)
            return crc;
        int n = fire_timers(p);
        n += poll_io(p, 0);
        poll_gpu(p);
        n += reap(p);
        if (p->o.max_wall_s > 0 && hw_now(p) / 1e9 > p->o.max_wall_s)
            return dp_err_set(err, DP_EINTR, "hw run: stopped after --max-wall-s %.0f s with "
                              "%llu of %llu requests done", p->o.max_wall_s,
                              (unsigned long long)dp_core_requests_done(p->core),
                              (unsigned long long)dp_core_requests_total(p->core));
        if (!n && !p->live && !p->timers.n && !dp_core_done(p->core))
            return dp_err_set(err, DP_ESTATE, "hw run stalled at t=%.3f s with %llu of %llu "
                              "requests done: nothing in flight", hw_now(p) / 1e9,
                              (unsigned long long)dp_core_requests_done(p->core),
                              (unsigned long long)dp_core_requests_total(p->core));
        if (!n) {   /* idle: wait for I/O a little, or until the next timer */
            uint64_t w = 50000;
            struct dp_ev *next = dp_evq_peek(&p->timers);
            if (next && next->t > hw_now(p) && next->t - hw_now(p) < w)
                w = next->t - hw_now(p);
            poll_io(p, w);
        }
        if (p->o.progress && dp_clock_ns() > next_show) {
            show_progress(p, 0);
            next_show = dp_clock_ns() + 500000000ULL;
        }
    }
    if (p->o.progress)
        show_progress(p, 1);
    if (p->failed) {
        *err = p->ferr;
        return p->failed;
    }
    return dp_core_error(p->core, err);
}

/* ---- setup --------------------------------------------------------------------- */

int hw_setup_streams(struct dp_hwplat *p, struct hw_engine *e, struct dp_err *err)
{
    int lo = 0, hi = 0;   /* lo = least priority, hi = greatest */
    if (DP_CUDA(err, cudaSetDevice(e->dev)) ||
        DP_CUDA(err, cudaDeviceGetStreamPriorityRange(&lo, &hi)) ||
        DP_CUDA(err, cudaStreamCreateWithPriority(&e->s_lo, cudaStreamNonBlocking, lo)) ||
        DP_CUDA(err, cudaStreamCreateWithPriority(&e->s_hi, cudaStreamNonBlocking, hi)) ||
        DP_CUDA(err, cudaStreamCreateWithPriority(&e->s_comp, cudaStreamNonBlocking, hi)))
        return DP_EIO;
    int rc = DP_CUBLAS(err, cublasCreate(&e->blas));
    if (!rc)
        rc = DP_CUBLAS(err, cublasSetStream(e->blas, e->s_comp));
    return rc;
}

static int setup_arenas(struct dp_hwplat *p, struct hw_engine *e, double dev_free,
                        uint32_t per_dev, struct dp_err *err)
{
    double host = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    double dram = p->o.dram_gib > 0 ? p->o.dram_gib * 1073741824.0 : e->ehw.dram_bytes;
    double dram_max = host * 0.5 / p->n_eng;
    if (p->o.dram_gib <= 0 && dram > dram_max)
        dram = dram_max;
    size_t du = p->L * p->slot, hu = p->L * p->lb16;
    uint32_t nd = (uint32_t)(dram / du) < 8 ? 8 : (uint32_t)(dram / du);
    struct dp_err why;
    int rc = DP_CUDA(err, cudaSetDevice(e->dev));
    if (rc)
        return rc;
    if ((rc = hw_arena_init(&e->dram, du, nd, 1, &why)))
        return dp_err_set(err, rc, "hw: cannot pin %.1f GiB of host memory for engine %d's "
                          "DRAM buffer (--dram-gib sets less): %s",
                          nd * (double)du / 1073741824.0, e->id, why.msg);
    size_t freeb = 0, total = 0;
    if ((rc = DP_CUDA(err, cudaMemGetInfo(&freeb, &total))))
        return rc;
    double hbm = p->o.hbm_gib > 0 ? p->o.hbm_gib * 1073741824.0 : dev_free * 0.85 / per_dev;
    uint32_t nh = (uint32_t)(hbm / hu);
    if (nh < 4 || hbm > (double)freeb || hw_arena_init(&e->hbm, hu, nh, 0, &why))
        return dp_err_set(err, DP_ENOMEM, "hw: not enough HBM on GPU %d for engine %d: %.2f GiB "
                          "wanted, %.2f GiB free (--hbm-gib sets the arena)", e->dev, e->id,
                          hbm / 1073741824.0, freeb / 1073741824.0);
    return 0;
}

static void engines_describe(struct dp_hwplat *p, uint32_t *per_dev)
{
    const struct dp_scenario *sc = p->sc;
    for (uint32_t i = 0; i < p->n_eng; i++) {
        struct hw_engine *e = &p->eng[i];
        e->id = (int32_t)i;
        e->prefill = i < sc->cluster.prefill_engines;
        e->gpus = e->prefill ? sc->cluster.prefill_gpus : sc->cluster.decode_gpus;
        e->gpus = e->gpus ? e->gpus : 1;
        e->dev = (int)(i % (uint32_t)p->ngpu);
        per_dev[e->dev]++;
        dp_engine_hw_from(&e->ehw, &sc->hw, e->gpus);
        dp_tbucket_init(&e->rx, e->ehw.snic_bw, 4.0 * 1048576);
        dp_tbucket_init(&e->tx, e->ehw.snic_bw, 4.0 * 1048576);
    }
}

static int setup_engines(struct dp_hwplat *p, struct dp_err *err)
{
    uint32_t per_dev[HW_MAX_DEV] = {0};
    engines_describe(p, per_dev);
    for (uint32_t i = 0; i < p->n_eng; i++) {
        struct hw_engine *e = &p->eng[i];
        int rc = DP_CUDA(err, cudaSetDevice(e->dev));
        if (!rc)
            rc = dp_cuda_require_mem(hw_scratch_bytes(p->sc), "the compute scratch", err);
        if (!rc)
            rc = hw_setup_streams(p, e, err);
        if (!rc)
            rc = hw_setup_scratch(p, e, err);
        if (rc)
            return rc;
    }
    double dev_free[HW_MAX_DEV] = {0};
    for (int d = 0; d < p->ngpu; d++) {
        size_t f = 0, t = 0;
        int rc = DP_CUDA(err, cudaSetDevice(d));
        if (!rc)
            rc = DP_CUDA(err, cudaMemGetInfo(&f, &t));
        if (rc)
            return rc;
        dev_free[d] = (double)f;
    }
    for (uint32_t i = 0; i < p->n_eng; i++) {
        struct hw_engine *e = &p->eng[i];
        int rc = setup_arenas(p, e, dev_free[e->dev], per_dev[e->dev], err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Peer access between every two GPUs in use (NVLink where present). A pair
 * without it copies with cudaMemcpyPeerAsync (run_copy). */
static int setup_peers(struct dp_hwplat *p, struct dp_err *err)
{
    int n = p->ngpu < HW_MAX_DEV ? p->ngpu : HW_MAX_DEV;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            int can = 0;
            if (a == b)
                continue;
            if (DP_CUDA(err, cudaDeviceCanAccessPeer(&can, a, b)))
                return DP_EIO;
            if (!can)
                continue;
            if (DP_CUDA(err, cudaSetDevice(a)))
                return DP_EIO;
            cudaError_t rc = cudaDeviceEnablePeerAccess(b, 0);
            p->peer[a][b] = rc == cudaSuccess || rc == cudaErrorPeerAccessAlreadyEnabled;
            /* a refused peer mapping is not sticky: clear it, copy without */
            (void)cudaGetLastError();
        }
    return 0;
}

int dp_hwplat_create(struct dp_hwplat **out, const struct dp_scenario *sc,
                     const struct dp_hwplat_opts *o, struct dp_err *err)
{
    *out = NULL;
    uint32_t n_eng = sc->cluster.prefill_engines + sc->cluster.decode_engines;
    int ngpu = 0;
    int rc = dp_cuda_require(1, &ngpu, err);
    if (rc)
        return rc;
    if (!o->share_gpus && (uint32_t)ngpu < n_eng)
        return dp_err_set(err, DP_ENODEV, "the scenario needs %u GPUs (%u prefill + %u decode "
                          "engines, one GPU each); this machine has %d (--share-gpus puts "
                          "several engines on one GPU)", n_eng, sc->cluster.prefill_engines,
                          sc->cluster.decode_engines, ngpu);
    struct dp_hwplat *p = calloc(1, sizeof *p);
    if (!p || !(p->eng = calloc(n_eng, sizeof *p->eng))) {
        free(p);
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    }
    if (dp_evq_init(&p->timers)) {
        free(p->eng);
        free(p);
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    }
    p->sc = sc;
    p->o = *o;
    p->n_eng = n_eng;
    p->ngpu = ngpu > HW_MAX_DEV ? HW_MAX_DEV : ngpu;
    p->L = sc->model.n_layers;
    p->bt = o->block_tokens ? o->block_tokens : sc->workload.block_tokens;
    double lb = dp_kv_bytes_per_token_layer(&sc->model) * p->bt;
    p->lb16 = ((size_t)ceil(lb) + 15) / 16 * 16;
    p->slot = (p->lb16 + DP_STORE_ALIGN - 1) / DP_STORE_ALIGN * DP_STORE_ALIGN;
    struct cudaDeviceProp prop;
    rc = DP_CUDA(err, cudaGetDeviceProperties(&prop, 0));
    if (!rc) {
        snprintf(p->st.gpu, sizeof p->st.gpu, "%.100s", prop.name);
        p->st.ngpu = ngpu;
        rc = dp_store_open(&p->store, o->store_dir, p->L, p->lb16, -1, err);
    }
    if (!rc)
        rc = dp_store_pool_create(&p->pool, p->store, o->io_threads > 0 ? o->io_threads : 8, err);
    if (!rc)
        rc = setup_peers(p, err);
    if (!rc)
        rc = setup_engines(p, err);
    for (uint32_t i = 0; !rc && i < n_eng; i++) {
        rc = DP_CUDA(err, cudaSetDevice(p->eng[i].dev));
        if (!rc)
            rc = DP_CUDA(err, cudaDeviceSynchronize());
    }
    if (rc) {
        dp_hwplat_destroy(p, NULL);
        return rc;
    }
    p->t0 = dp_clock_ns();
    *out = p;
    return 0;
}

void dp_hwplat_attach(struct dp_hwplat *p, struct dp_core *core)
{
    p->core = core;
    p->t0 = dp_clock_ns();
}

/* The bad-slice counters are read after every engine's device has drained:
 * a fault in that drain is the run's failure, not "0 wrong". */
int dp_hwplat_stats(struct dp_hwplat *p, struct dp_hwplat_stats *s, struct dp_err *err)
{
    p->st.slices_bad = 0;
    for (uint32_t i = 0; i < p->n_eng; i++) {
        unsigned long long bad = 0;
        int rc = DP_CUDA(err, cudaSetDevice(p->eng[i].dev));
        if (!rc)
            rc = DP_CUDA(err, cudaDeviceSynchronize());
        if (!rc && p->eng[i].bad_d)
            rc = DP_CUDA(err, cudaMemcpy(&bad, p->eng[i].bad_d, sizeof bad,
                                         cudaMemcpyDeviceToHost));
        if (rc)
            return rc;
        p->st.slices_bad += bad;
    }
    p->st.wall_s = hw_now(p) / 1e9;
    *s = p->st;
    return 0;
}

void dp_hwplat_caps(const struct dp_hwplat *p, uint32_t engine, double *snic, double *cnic,
                    double *pcie)
{
    const struct dp_engine_hw *h = &p->eng[engine].ehw;
    *snic = h->snic_bw;
    *cnic = h->cnic_bw;
    *pcie = h->pcie_bw;
}

/* ---- teardown ------------------------------------------------------------------ */

void hw_engine_free_gpu(struct hw_engine *e, int *rc, struct dp_err *err)
{
    hw_free_scratch(e, rc, err);
    if (e->blas) {
        struct dp_err why;
        int brc = DP_CUBLAS(&why, cublasDestroy(e->blas));
        if (brc && !*rc) {
            *rc = brc;
            if (err)
                *err = why;
        }
        e->blas = NULL;
    }
    cudaStream_t *streams[] = {&e->s_lo, &e->s_hi, &e->s_comp};
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
        if (*streams[i]) {
            DP_CUDA_KEEP(*rc, err, cudaStreamDestroy(*streams[i]));
            *streams[i] = NULL;
        }
}

int dp_hwplat_destroy(struct dp_hwplat *p, struct dp_err *err)
{
    int rc = 0;
    if (!p)
        return 0;
    dp_store_pool_destroy(p->pool);   /* waits for I/O that still targets the arenas */
    for (uint32_t i = 0; i < p->n_eng; i++) {
        DP_CUDA_KEEP(rc, err, cudaSetDevice(p->eng[i].dev));
        DP_CUDA_KEEP(rc, err, cudaDeviceSynchronize());
    }
    while (p->reqs)   /* none when the core was destroyed first (it releases) */
        hw_req_free(p, p->reqs);
    hw_ops_free(p->live, &rc, err);
    hw_ops_free(p->free_ops, &rc, err);
    for (uint32_t i = 0; i < p->n_eng; i++) {
        struct hw_engine *e = &p->eng[i];
        DP_CUDA_KEEP(rc, err, cudaSetDevice(e->dev));
        hw_arena_free(&e->dram, &rc, err);
        hw_arena_free(&e->hbm, &rc, err);
        hw_engine_free_gpu(e, &rc, err);
        dp_tbucket_destroy(&e->rx);
        dp_tbucket_destroy(&e->tx);
    }
    dp_store_close(p->store);
    free(p->eng);
    struct dp_ev *ev;
    while ((ev = dp_evq_pop(&p->timers)))   /* armed, never fired: the run stopped */
        free(ev->ctx);
    dp_evq_free(&p->timers);
    while (p->free_tmrs) {
        struct hw_tmr *tm = p->free_tmrs;
        p->free_tmrs = tm->next;
        free(tm);
    }
    free(p);
    return rc;
}
