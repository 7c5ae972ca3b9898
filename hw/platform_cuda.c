/* struct dp_platform_ops on CUDA GPUs and files (platform_cuda.h).
 *
 * Where a request's KV lives: each request the platform has seen has a
 * record (struct hw_req) naming, per block of its context, the unit that
 * holds it in the prefill engine's DRAM and HBM and the decode engine's
 * DRAM and HBM. Units come from per-engine arenas and go back when core
 * would free the bytes: the PE's when the handoff out of its HBM is done,
 * the DE's DRAM when its DRAM -> HBM move is done, the DE's HBM when the
 * write-back is done (or the request ended without one).
 *
 * Every op completes through the progress loop (never inside the op call):
 * GPU work by a polled event, storage I/O by the reader pool's completion
 * list, timers from a heap. A failure of CUDA or of the store stops the run
 * with one line (the core has no retry for platform faults); a KV block that
 * arrives with the wrong content is counted, not fatal. */
#include <cublas_v2.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/request.h"
#include "hw/blockcopy.h"
#include "hw/cudautil.h"
#include "hw/kvcheck.h"
#include "hw/platform_cuda.h"
#include "hw/store.h"

#define HW_MAX_DEV 16
#define HW_HASH 4096
#define HW_GEMM_ROWS 8192
#define HW_WTS_BYTES (256u << 20)
#define HW_A2A_BYTES (64u << 20)

struct hw_arena {
    uint8_t *base;
    size_t unit;
    uint32_t n, nfree;
    uint32_t *free;
    int host;
};

struct hw_engine {
    int32_t id;
    int dev;
    int prefill;
    uint32_t gpus;
    struct dp_engine_hw ehw;
    cudaStream_t s_lo, s_hi, s_comp;
    cublasHandle_t blas;
    struct dp_tbucket rx, tx;         /* the storage NIC, each direction */
    struct hw_arena dram, hbm;
    void *ga, *gb, *gc, *wts;         /* GEMM scratch, bf16 */
    size_t g_k;
    void *a2a;
    unsigned long long *bad_d;
    struct dp_link_counters ctr;
};

/* Where one request's blocks are: unit index per block, -1 for none. */
struct hw_req {
    struct dp_request *r;
    uint64_t id;
    int32_t pe, de;
    uint32_t nb;                      /* blocks of the final context */
    uint32_t pb;                      /* blocks after prefill */
    int32_t *u[4];                    /* HW_PE_DRAM .. HW_DE_HBM */
    int wr_pending;
    struct hw_req *next;
};
enum { HW_PE_DRAM, HW_DE_DRAM, HW_PE_HBM, HW_DE_HBM };

struct hw_op {
    struct dp_xfer *x;
    struct dp_compute *k;
    struct hw_engine *e;              /* whose device its GPU part runs on */
    struct hw_req *hr;
    int wait_ev, io_pending, stage, done;
    cudaEvent_t ev[HW_MAX_DEV];
    cudaEvent_t ev0[HW_MAX_DEV];      /* compute: its start, for the GPU time */
    int timed;
    struct dp_store_req *io;
    uint32_t io_cap;
    void **src, **dst;                /* pinned, mapped: read by the kernels */
    struct dp_kv_tag *tags;
    uint32_t n, cap;
    int32_t *tmp;                     /* staging DRAM units (write-back) */
    uint32_t n_tmp, tmp_cap;
    struct hw_op *next;
};

struct dp_hwplat {
    const struct dp_scenario *sc;
    struct dp_hwplat_opts o;
    struct dp_core *core;
    uint32_t n_eng;
    struct hw_engine *eng;
    int ngpu;
    int peer[HW_MAX_DEV][HW_MAX_DEV];
    struct dp_store *store;
    struct dp_store_pool *pool;
    uint64_t t0;
    struct dp_timer **heap;
    uint32_t nheap, capheap;
    struct hw_op *live, *free_ops;
    struct hw_req *hash[HW_HASH];
    uint32_t L, bt;
    size_t lb16, slot;
    int failed;
    struct dp_err ferr;
    struct dp_hwplat_stats st;
};

static int hw_fail(struct dp_hwplat *p, int code, const char *what, const char *msg)
{
    if (!p->failed) {
        p->failed = code ? code : DP_EIO;
        dp_err_set(&p->ferr, p->failed, "%s: %s", what, msg);
    }
    return p->failed;
}

static int hw_cuda(struct dp_hwplat *p, cudaError_t rc, const char *what)
{
    struct dp_err e;
    if (rc == cudaSuccess)
        return 0;
    dp_cuda_fail(&e, rc, what);
    return hw_fail(p, DP_EIO, "hw", e.msg);
}

/* ---- arenas: fixed-size units on a free stack --------------------------- */

static int arena_init(struct hw_arena *a, size_t unit, uint32_t n, int host)
{
    a->unit = unit;
    a->n = a->nfree = n;
    a->host = host;
    a->free = malloc((size_t)n * sizeof *a->free);
    if (!a->free)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        a->free[i] = n - 1 - i;
    cudaError_t rc = host ? cudaHostAlloc((void **)&a->base, unit * n,
                                          cudaHostAllocMapped | cudaHostAllocPortable)
                          : cudaMalloc((void **)&a->base, unit * n);
    if (rc != cudaSuccess)
        a->base = NULL;
    return rc == cudaSuccess ? 0 : -1;
}

static void arena_free(struct hw_arena *a)
{
    if (a->base)
        a->host ? cudaFreeHost(a->base) : cudaFree(a->base);
    free(a->free);
    memset(a, 0, sizeof *a);
}

static int32_t arena_get(struct hw_arena *a)
{
    return a->nfree ? (int32_t)a->free[--a->nfree] : -1;
}

static void arena_put(struct hw_arena *a, int32_t u)
{
    if (u >= 0)
        a->free[a->nfree++] = (uint32_t)u;
}

static uint8_t *unit_ptr(const struct hw_arena *a, int32_t u)
{
    return a->base + (size_t)u * a->unit;
}

/* ---- request records ------------------------------------------------------ */

static uint32_t div_up(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }

static struct hw_engine *eng_of(struct dp_hwplat *p, int32_t id) { return &p->eng[id]; }

static struct hw_arena *where_arena(struct dp_hwplat *p, struct hw_req *h, int w)
{
    struct hw_engine *e = eng_of(p, w == HW_PE_DRAM || w == HW_PE_HBM ? h->pe : h->de);
    return w == HW_PE_DRAM || w == HW_DE_DRAM ? &e->dram : &e->hbm;
}

static void req_units_free(struct dp_hwplat *p, struct hw_req *h, int w)
{
    struct hw_arena *a = where_arena(p, h, w);
    for (uint32_t b = 0; b < h->nb; b++) {
        arena_put(a, h->u[w][b]);
        h->u[w][b] = -1;
    }
}

static void req_drop(struct dp_hwplat *p, struct hw_req *h)
{
    struct hw_req **pp = &p->hash[((uintptr_t)h->r >> 6) % HW_HASH];
    while (*pp && *pp != h)
        pp = &(*pp)->next;
    if (*pp)
        *pp = h->next;
    for (int w = 0; w < 4; w++)
        req_units_free(p, h, w);
    free(h->u[0]);
    free(h);
}

/* The record of request r, made on first sight. A record whose request
 * object now carries another id is a finished request's: its units go back. */
static struct hw_req *req_get(struct dp_hwplat *p, struct dp_request *r)
{
    struct hw_req *h = p->hash[((uintptr_t)r >> 6) % HW_HASH];
    while (h && h->r != r)
        h = h->next;
    if (h && h->id == r->id)
        return h;
    if (h)
        req_drop(p, h);
    if (r->block_tokens != p->bt) {
        char msg[160];
        snprintf(msg, sizeof msg, "a request has %u-token blocks, the store %u-token ones "
                 "(workload and scenario block_tokens differ)", r->block_tokens, p->bt);
        hw_fail(p, DP_EINVAL, "hw", msg);
        return NULL;
    }
    h = calloc(1, sizeof *h);
    uint32_t nb = div_up((uint64_t)r->input_tokens + r->output_tokens, r->block_tokens) + 1;
    int32_t *all = h ? malloc(4 * (size_t)nb * sizeof *all) : NULL;
    if (!all) {
        free(h);
        hw_fail(p, DP_ENOMEM, "hw", "out of memory for a request record");
        return NULL;
    }
    for (size_t i = 0; i < 4 * (size_t)nb; i++)
        all[i] = -1;
    for (int w = 0; w < 4; w++)
        h->u[w] = all + (size_t)w * nb;
    h->r = r;
    h->id = r->id;
    h->pe = r->pe;
    h->de = r->de;
    h->nb = nb;
    h->pb = div_up(r->input_tokens, r->block_tokens);
    struct hw_req **head = &p->hash[((uintptr_t)r >> 6) % HW_HASH];
    h->next = *head;
    *head = h;
    return h;
}

/* Give blocks [lo, hi) a unit each in `w`, where they have none yet. */
static int req_alloc(struct dp_hwplat *p, struct hw_req *h, int w, uint32_t lo, uint32_t hi)
{
    static const char *const names[] = {"DRAM buffer", "DRAM buffer", "HBM", "HBM"};
    struct hw_arena *a = where_arena(p, h, w);
    for (uint32_t b = lo; b < hi && b < h->nb; b++) {
        if (h->u[w][b] >= 0)
            continue;
        if ((h->u[w][b] = arena_get(a)) < 0) {
            char msg[256];
            int32_t e = w == HW_PE_DRAM || w == HW_PE_HBM ? h->pe : h->de;
            snprintf(msg, sizeof msg, "engine %d's %s is full (%u blocks of %.1f MiB); "
                     "raise --%s or shrink the scenario", e, names[w], a->n,
                     a->unit / 1048576.0, w <= HW_DE_DRAM ? "dram-gib" : "hbm-gib");
            return hw_fail(p, DP_ENOMEM, "hw", msg);
        }
    }
    return 0;
}

/* ---- ops -------------------------------------------------------------------- */

static struct hw_op *op_get(struct dp_hwplat *p)
{
    struct hw_op *op = p->free_ops;
    if (op)
        p->free_ops = op->next;
    else if (!(op = calloc(1, sizeof *op)))
        return NULL;
    op->x = NULL;
    op->k = NULL;
    op->e = NULL;
    op->hr = NULL;
    op->wait_ev = op->io_pending = op->stage = op->done = op->timed = 0;
    op->n = op->n_tmp = 0;
    op->next = p->live;
    p->live = op;
    return op;
}

/* Room for n (src, dst, tag) entries in pinned, mapped memory. */
static int op_room(struct dp_hwplat *p, struct hw_op *op, uint32_t n)
{
    if (n <= op->cap)
        return 0;
    uint32_t cap = n < 1024 ? 1024 : n + n / 2;
    cudaFreeHost(op->src);
    cudaFreeHost(op->dst);
    cudaFreeHost(op->tags);
    op->src = op->dst = NULL;
    op->tags = NULL;
    op->cap = 0;
    unsigned f = cudaHostAllocMapped | cudaHostAllocPortable;
    cudaError_t rc = cudaHostAlloc((void **)&op->src, cap * sizeof(void *), f);
    if (rc == cudaSuccess)
        rc = cudaHostAlloc((void **)&op->dst, cap * sizeof(void *), f);
    if (rc == cudaSuccess)
        rc = cudaHostAlloc((void **)&op->tags, cap * sizeof *op->tags, f);
    if (rc == cudaSuccess)
        op->cap = cap;
    return hw_cuda(p, rc, "pinned pointer arrays");
}

static void op_add(struct hw_op *op, void *src, void *dst, uint64_t sess, uint32_t b, uint32_t l)
{
    op->src[op->n] = src;
    op->dst[op->n] = dst;
    op->tags[op->n] = (struct dp_kv_tag){sess, b, l};
    op->n++;
}

static struct dp_store_req *op_io(struct dp_hwplat *p, struct hw_op *op, uint32_t n)
{
    if (n > op->io_cap) {
        struct dp_store_req *io = realloc(op->io, n * sizeof *io);
        if (!io) {
            hw_fail(p, DP_ENOMEM, "hw", "out of memory for I/O requests");
            return NULL;
        }
        op->io = io;
        op->io_cap = n;
    }
    return op->io;
}

/* Mark the op's GPU part as submitted on `st` of engine e. */
static int op_record(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e,
                     cudaStream_t st)
{
    cudaSetDevice(e->dev);
    if (!op->ev[e->dev] && hw_cuda(p, cudaEventCreate(&op->ev[e->dev]), "event"))
        return p->failed;
    op->e = e;
    op->wait_ev = 1;
    return hw_cuda(p, cudaEventRecord(op->ev[e->dev], st), "event record");
}

/* Compute ops time themselves on the GPU, to compare with the cost model. */
static int op_start_timing(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e)
{
    cudaSetDevice(e->dev);
    if (!op->ev0[e->dev] && hw_cuda(p, cudaEventCreate(&op->ev0[e->dev]), "event"))
        return p->failed;
    op->timed = 1;
    return hw_cuda(p, cudaEventRecord(op->ev0[e->dev], e->s_comp), "event record");
}

static cudaStream_t lane_stream(const struct hw_engine *e, const struct dp_xfer *x)
{
    return x->lane == DP_LANE_KV ? e->s_lo : e->s_hi;
}

/* ---- storage ------------------------------------------------------------------ */

static int start_read(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_engine *e = eng_of(p, x->dst.engine);
    struct hw_req *h = req_get(p, x->req);
    if (!h)
        return p->failed;
    int w = x->dst.engine == h->pe ? HW_PE_DRAM : HW_DE_DRAM;
    uint32_t n = x->block_hi - x->block_lo;
    struct dp_store_req *io = op_io(p, op, n ? n : 1);
    if (!io || req_alloc(p, h, w, x->block_lo, x->block_hi))
        return p->failed;
    op->hr = h;
    op->io_pending = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = x->block_lo + i;
        memset(&io[i], 0, sizeof io[i]);
        io[i].session = x->req->sess;
        io[i].block_lo = b;
        io[i].block_hi = b + 1;
        io[i].layer_hi = p->L;
        io[i].dst = unit_ptr(&e->dram, h->u[w][b]);
        io[i].bucket = &e->rx;
        io[i].user = op;
        dp_store_pool_submit(p->pool, &io[i]);
    }
    op->done = n == 0;
    p->st.blocks_read += n;
    return 0;
}

/* Write-back, stage 0: on the DE, give the blocks decode produced their
 * content, then copy blocks [lo, hi) from HBM into staging units. */
static int start_write(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_engine *e = eng_of(p, x->src.engine);
    struct hw_req *h = req_get(p, x->req);
    uint32_t lo = x->block_lo, hi = x->block_hi, nbk = hi > lo ? hi - lo : 0;
    if (!h || req_alloc(p, h, HW_DE_HBM, lo, hi) || op_room(p, op, 2 * nbk * p->L + 1))
        return p->failed;
    op->hr = h;
    h->wr_pending = 1;
    if (nbk > op->tmp_cap) {
        int32_t *t = realloc(op->tmp, nbk * sizeof *t);
        if (!t)
            return hw_fail(p, DP_ENOMEM, "hw", "out of memory");
        op->tmp = t;
        op->tmp_cap = nbk;
    }
    cudaSetDevice(e->dev);
    uint32_t nfill = 0;
    for (uint32_t b = lo < h->pb ? h->pb : lo; b < hi; b++)
        for (uint32_t l = 0; l < p->L; l++, nfill++)
            op_add(op, NULL, unit_ptr(&e->hbm, h->u[HW_DE_HBM][b]) + l * p->lb16, x->req->sess,
                   b, l);
    cudaStream_t st = lane_stream(e, x);
    if (nfill && hw_cuda(p, dp_kv_fill_dev(op->dst, op->tags, nfill, p->lb16, st), "fill"))
        return p->failed;
    /* the fill's arrays are read by the kernel: the copy's go after them */
    uint32_t base = op->n;
    for (uint32_t i = 0; i < nbk; i++) {
        uint32_t b = lo + i;
        if ((op->tmp[i] = arena_get(&e->dram)) < 0)
            return hw_fail(p, DP_ENOMEM, "hw", "DRAM buffer full while staging a write-back "
                           "(raise --dram-gib)");
        op->n_tmp++;
        for (uint32_t l = 0; l < p->L; l++)
            op_add(op, unit_ptr(&e->hbm, h->u[HW_DE_HBM][b]) + l * p->lb16,
                   unit_ptr(&e->dram, op->tmp[i]) + l * p->slot, x->req->sess, b, l);
    }
    if (op->n > base &&
        hw_cuda(p, dp_blockcopy_gather(op->dst + base, (const void *const *)op->src + base,
                                       op->n - base, p->lb16, 0, st), "write-back copy"))
        return p->failed;
    e->ctr.pcie_d2h += (double)x->bytes;
    return op_record(p, op, e, st);
}

/* Write-back, stage 1: the staged blocks go to the store. */
static int write_stage2(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_engine *e = op->e;
    struct dp_store_req *io = op_io(p, op, op->n_tmp ? op->n_tmp : 1);
    if (!io)
        return p->failed;
    op->stage = 1;
    op->io_pending = (int)op->n_tmp;
    for (uint32_t i = 0; i < op->n_tmp; i++) {
        memset(&io[i], 0, sizeof io[i]);
        io[i].write = 1;
        io[i].session = x->req->sess;
        io[i].block_lo = x->block_lo + i;
        io[i].block_hi = x->block_lo + i + 1;
        io[i].dst = unit_ptr(&e->dram, op->tmp[i]);
        io[i].bucket = &e->tx;
        io[i].user = op;
        dp_store_pool_submit(p->pool, &io[i]);
    }
    p->st.blocks_written += op->n_tmp;
    op->done = op->n_tmp == 0;
    return 0;
}

/* ---- KV moves ----------------------------------------------------------------- */

/* Which of a request's unit arrays holds its blocks at (engine, tier). */
static int where_of(const struct hw_req *h, struct dp_loc loc)
{
    int hbm = loc.tier == DP_TIER_HBM;
    if (loc.engine == h->pe)
        return hbm ? HW_PE_HBM : HW_PE_DRAM;
    return hbm ? HW_DE_HBM : HW_DE_DRAM;
}

/* Add the (src, dst) pairs of blocks [lo, hi): whole units between two HBM
 * arenas (same layout), layer slices otherwise. A block with no source
 * unit (never read: the Oracle policy's "KV already in DRAM") is skipped,
 * or, with `missing`, added alone with src NULL, to be filled in place. */
static void add_blocks(struct dp_hwplat *p, struct hw_op *op, struct hw_req *h, int ws, int wd,
                       uint32_t lo, uint32_t hi, uint32_t l_lo, uint32_t l_hi, int whole,
                       int missing)
{
    struct hw_arena *as = where_arena(p, h, ws), *ad = where_arena(p, h, wd);
    size_t ss = as->host ? p->slot : p->lb16, ds = ad->host ? p->slot : p->lb16;
    for (uint32_t b = lo; b < hi && b < h->nb; b++) {
        if ((h->u[ws][b] < 0) != missing)
            continue;
        uint8_t *s = missing ? NULL : unit_ptr(as, h->u[ws][b]), *d = unit_ptr(ad, h->u[wd][b]);
        if (whole) {
            op_add(op, s, d, h->r->sess, b, 0);
            continue;
        }
        if (missing && whole) {   /* fill every layer of a whole unit */
            for (uint32_t l = 0; l < p->L; l++)
                op_add(op, NULL, d + l * p->lb16, h->r->sess, b, l);
            continue;
        }
        for (uint32_t l = l_lo; l < l_hi; l++)
            op_add(op, s ? s + l * ss : NULL, d + l * ds, h->r->sess, b, l);
    }
}

/* Copy the op's pairs on the destination engine's device: the gather kernel
 * reads host memory, its own HBM and peers' HBM; without peer access,
 * one cudaMemcpyPeerAsync per pair. */
static int run_copy(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *src,
                    struct hw_engine *dst, size_t bytes, int src_hbm, uint32_t ncopy,
                    cudaStream_t st)
{
    uint32_t nfill = op->n - ncopy;
    cudaSetDevice(dst->dev);
    if (nfill && hw_cuda(p, dp_kv_fill_dev(op->dst + ncopy, op->tags + ncopy, nfill, p->lb16,
                                           st), "fill of never-read KV"))
        return p->failed;
    op->n = ncopy;
    if (op->n && src_hbm && src->dev != dst->dev && !p->peer[dst->dev][src->dev]) {
        for (uint32_t i = 0; i < op->n; i++)
            if (hw_cuda(p, cudaMemcpyPeerAsync(op->dst[i], dst->dev, op->src[i], src->dev,
                                               bytes, st), "peer copy"))
                return p->failed;
    } else if (op->n &&
               hw_cuda(p, dp_blockcopy_gather(op->dst, (const void *const *)op->src, op->n,
                                              bytes, 0, st), "block copy")) {
        return p->failed;
    }
    p->st.kernels++;
    return op_record(p, op, dst, st);
}

static void count_move(struct hw_engine *s, struct hw_engine *d, const struct dp_xfer *x)
{
    double b = (double)x->bytes;
    if (s != d) {              /* between engines: the compute network */
        s->ctr.cnic_tx += b;
        d->ctr.cnic_rx += b;
    } else if (x->src.tier == DP_TIER_DRAM && x->dst.tier == DP_TIER_HBM) {
        d->ctr.pcie_h2d += b;
    } else if (x->src.tier == DP_TIER_HBM && x->dst.tier == DP_TIER_DRAM) {
        d->ctr.pcie_d2h += b;
    }
}

/* One layer of a prefill batch's cached blocks from one source's DRAM. */
static int start_layer_load(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_engine *s = eng_of(p, x->src.engine), *d = eng_of(p, x->dst.engine);
    uint32_t need = 0, ncopy = 0;
    for (uint32_t i = 0; i < x->n_reqs; i++)
        need += x->reqs[i]->cached_blocks * (x->layer_hi - x->layer_lo);
    if (op_room(p, op, need + 1))
        return p->failed;
    for (int missing = 0; missing < 2; missing++) {
        for (uint32_t i = 0; i < x->n_reqs; i++) {
            struct dp_request *r = x->reqs[i];
            struct hw_req *h = req_get(p, r);
            if (!h || req_alloc(p, h, HW_PE_HBM, 0, h->pb))
                return p->failed;
            uint32_t pe_blocks = dp_req_pe_blocks(r);
            if (x->src.engine == h->pe)
                add_blocks(p, op, h, HW_PE_DRAM, HW_PE_HBM, 0, pe_blocks, x->layer_lo,
                           x->layer_hi, 0, missing);
            else if (x->src.engine == h->de)
                add_blocks(p, op, h, HW_DE_DRAM, HW_PE_HBM, pe_blocks, r->cached_blocks,
                           x->layer_lo, x->layer_hi, 0, missing);
        }
        if (!missing)
            ncopy = op->n;
    }
    count_move(s, d, x);
    return run_copy(p, op, s, d, p->lb16, 0, ncopy, lane_stream(d, x));
}

/* A request's KV between engines or tiers (the handoff). Out of the PE's
 * HBM go the named blocks plus the prefill's output [cached, pb). */
static int start_kv_move(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_engine *s = eng_of(p, x->src.engine), *d = eng_of(p, x->dst.engine);
    struct hw_req *h = req_get(p, x->req);
    if (!h)
        return p->failed;
    int ws = where_of(h, x->src), wd = where_of(h, x->dst);
    int out_of_pe = ws == HW_PE_HBM && wd != HW_PE_HBM;
    uint32_t n = (x->block_hi - x->block_lo) + (out_of_pe ? h->pb : 0);
    if (op_room(p, op, 2 * n * p->L + 1) || req_alloc(p, h, wd, x->block_lo, x->block_hi) ||
        (out_of_pe && req_alloc(p, h, wd, x->req->cached_blocks, h->pb)))
        return p->failed;
    int whole = ws >= HW_PE_HBM && wd >= HW_PE_HBM;
    op->hr = h;
    uint32_t ncopy = 0;
    for (int missing = 0; missing < 2; missing++) {
        add_blocks(p, op, h, ws, wd, x->block_lo, x->block_hi, 0, p->L, whole, missing);
        if (out_of_pe)
            add_blocks(p, op, h, ws, wd, x->req->cached_blocks, h->pb, 0, p->L, whole, missing);
        if (!missing)
            ncopy = op->n;
    }
    count_move(s, d, x);
    return run_copy(p, op, s, d, whole ? p->L * p->lb16 : p->lb16, ws >= HW_PE_HBM, ncopy,
                    lane_stream(d, x));
}

/* Free what core frees when a move completes (see the file comment). */
static void kv_move_done(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_req *h = op->hr;
    if (!h || x->reqs)
        return;
    int ws = where_of(h, x->src), wd = where_of(h, x->dst);
    if (ws == HW_PE_HBM && wd != HW_PE_HBM) {
        req_units_free(p, h, HW_PE_HBM);
        req_units_free(p, h, HW_PE_DRAM);
    } else if (ws == HW_DE_DRAM && wd == HW_DE_HBM) {
        req_units_free(p, h, HW_DE_DRAM);
    }
}

/* A collective's stand-in: its bytes copied within HBM on the model's
 * high-priority stream. */
static int start_collective(struct dp_hwplat *p, struct hw_op *op)
{
    struct hw_engine *e = eng_of(p, op->x->src.engine);
    size_t half = HW_A2A_BYTES / 2, n = op->x->bytes < half ? op->x->bytes : half;
    cudaSetDevice(e->dev);
    if (n && hw_cuda(p, cudaMemcpyAsync(e->a2a, (uint8_t *)e->a2a + half, n,
                                        cudaMemcpyDeviceToDevice, e->s_hi), "collective"))
        return p->failed;
    e->ctr.cnic_tx += (double)op->x->bytes;
    e->ctr.cnic_rx += (double)op->x->bytes;
    return op_record(p, op, e, e->s_hi);
}

static int hw_move(void *pp, struct dp_xfer *x)
{
    struct dp_hwplat *p = pp;
    if (p->failed)
        return p->failed;
    if ((x->src.engine >= (int32_t)p->n_eng) || (x->dst.engine >= (int32_t)p->n_eng))
        return DP_EINVAL;
    struct hw_op *op = op_get(p);
    if (!op)
        return hw_fail(p, DP_ENOMEM, "hw", "out of memory for an op");
    op->x = x;
    switch (x->kind) {
    case DP_X_STORAGE_READ: start_read(p, op); break;
    case DP_X_STORAGE_WRITE: start_write(p, op); break;
    case DP_X_COLLECTIVE: start_collective(p, op); break;
    default: x->reqs ? start_layer_load(p, op) : start_kv_move(p, op); break;
    }
    /* a failure stops the run from the loop; core must not see it twice */
    return 0;
}

/* ---- compute ------------------------------------------------------------------ */

/* reps x C[m x n] = A[m x k] B[k x n], bf16 in, fp32 accumulate. */
static int gemms(struct dp_hwplat *p, struct hw_engine *e, int m, int n, int k, void *b,
                 uint64_t reps)
{
    const float one = 1.0f, zero = 0.0f;
    for (uint64_t i = 0; i < reps; i++) {
        cublasStatus_t s = cublasGemmEx(e->blas, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, e->ga,
                                        CUDA_R_16BF, m, b, CUDA_R_16BF, k, &zero, e->gc,
                                        CUDA_R_16BF, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        if (s != CUBLAS_STATUS_SUCCESS) {
            char msg[64];
            snprintf(msg, sizeof msg, "cublasGemmEx %dx%dx%d: status %d", m, n, k, (int)s);
            return hw_fail(p, DP_EIO, "hw", msg);
        }
    }
    p->st.gemm_calls += reps;
    return 0;
}

/* The layer's FLOPs (this GPU's share of the engine's) as GEMMs of the
 * batch's tokens through a hidden -> 4 x hidden projection (an FFN's shape;
 * the weights' stand-in is e->wts), capped so that C fits e->gc. */
static int prefill_gemms(struct dp_hwplat *p, struct hw_engine *e,
                         const struct dp_prefill_shape *shape)
{
    double flops = dp_prefill_layer_flops(&p->sc->model, shape) / e->gpus;
    int m = (int)(shape->new_tokens < HW_GEMM_ROWS ? shape->new_tokens : HW_GEMM_ROWS);
    m = m < 1 ? 1 : m;
    size_t n = 4 * e->g_k, cap = HW_WTS_BYTES / 2 / e->g_k;
    n = n < cap ? n : cap;
    cap = HW_WTS_BYTES / 2 / HW_GEMM_ROWS;
    n = n < cap ? n : cap;
    double per = 2.0 * m * (double)n * (double)e->g_k;
    return gemms(p, e, m, (int)n, (int)e->g_k, e->wts, (uint64_t)ceil(flops / per));
}

/* A step's weight traffic read by GEMMs of the batch's rows. Its bytes are
 * what the cost model charges the step without KV (a MoE step touches more
 * experts as the batch grows): that time, less the fixed step overhead, at
 * this GPU's share of the engine's HBM rate; at least the active weights.
 * C is m x n in the HW_WTS_BYTES output buffer: m <= g_k. */
static int decode_gemms(struct dp_hwplat *p, struct hw_engine *e, uint32_t batch)
{
    const struct dp_model *md = &p->sc->model;
    const struct dp_hw *hw = &p->sc->hw;
    double t = dp_decode_step_ns(md, &e->ehw, batch, 0) * 1e-9 - e->ehw.step_overhead_s;
    double wbytes = md->params_active * md->weight_dtype_bytes / e->gpus;
    if (t * hw->gpu_hbm_bw * hw->mbu > wbytes)
        wbytes = t * hw->gpu_hbm_bw * hw->mbu;
    int m = (int)(batch < e->g_k ? batch : e->g_k);
    int n = (int)(HW_WTS_BYTES / 2 / e->g_k);
    return gemms(p, e, m < 1 ? 1 : m, n, (int)e->g_k, e->wts,
                 (uint64_t)ceil(wbytes / HW_WTS_BYTES));
}

/* The attention pass: verify op's (ptr, tag) entries in HBM. */
static int attend(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e)
{
    if (!op->n || !p->o.verify)
        return 0;
    p->st.slices_checked += op->n;
    p->st.kernels++;
    return hw_cuda(p, dp_kv_verify_dev((const void *const *)op->dst, op->tags, op->n, p->lb16,
                                       e->bad_d, e->s_comp), "attention pass");
}

/* One layer of prefill: GEMMs carrying the layer's FLOPs (this GPU's share
 * of the engine's), the attention pass over the batch's cached blocks of
 * the layer, then the layer's new KV written (filled) for the new blocks. */
static int start_prefill(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_compute *k = op->k;
    struct hw_engine *e = eng_of(p, k->engine);
    uint32_t l = k->layer, need = 0;
    for (uint32_t i = 0; i < k->n_reqs; i++)
        need += div_up(k->reqs[i]->input_tokens, k->reqs[i]->block_tokens);
    if (op_room(p, op, need + 1) || op_start_timing(p, op, e))
        return p->failed;
    if (prefill_gemms(p, e, &k->shape))
        return p->failed;
    for (uint32_t i = 0; i < k->n_reqs; i++) {
        struct hw_req *h = req_get(p, k->reqs[i]);
        if (!h || req_alloc(p, h, HW_PE_HBM, 0, h->pb))
            return p->failed;
        for (uint32_t b = 0; b < k->reqs[i]->cached_blocks; b++)
            op_add(op, NULL, unit_ptr(&e->hbm, h->u[HW_PE_HBM][b]) + l * p->lb16,
                   k->reqs[i]->sess, b, l);
    }
    if (attend(p, op, e))
        return p->failed;
    uint32_t base = op->n;
    for (uint32_t i = 0; i < k->n_reqs; i++) {
        struct hw_req *h = req_get(p, k->reqs[i]);
        for (uint32_t b = k->reqs[i]->cached_blocks; b < h->pb; b++)
            op_add(op, NULL, unit_ptr(&e->hbm, h->u[HW_PE_HBM][b]) + l * p->lb16,
                   k->reqs[i]->sess, b, l);
    }
    if (op->n > base && hw_cuda(p, dp_kv_fill_dev(op->dst + base, op->tags + base,
                                                  op->n - base, p->lb16, e->s_comp), "new KV"))
        return p->failed;
    return op_record(p, op, e, e->s_comp);
}

/* One decode step: the active weights' bytes (this GPU's share) read by
 * GEMMs of the batch's rows, and every running request's KV read (and
 * verified) by the attention pass. */
static int start_decode(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_compute *k = op->k;
    struct hw_engine *e = eng_of(p, k->engine);
    uint32_t need = 0;
    for (uint32_t i = 0; i < k->n_reqs; i++)
        need += div_up(k->reqs[i]->input_tokens, k->reqs[i]->block_tokens) * p->L;
    if (op_room(p, op, need + 1) || op_start_timing(p, op, e))
        return p->failed;
    if (decode_gemms(p, e, k->batch))
        return p->failed;
    for (uint32_t i = 0; i < k->n_reqs; i++) {
        struct hw_req *h = req_get(p, k->reqs[i]);
        if (!h)
            return p->failed;
        for (uint32_t b = 0; b < h->pb; b++)
            for (uint32_t l = 0; l < p->L; l++)
                if (h->u[HW_DE_HBM][b] >= 0)
                    op_add(op, NULL, unit_ptr(&e->hbm, h->u[HW_DE_HBM][b]) + l * p->lb16,
                           k->reqs[i]->sess, b, l);
    }
    if (attend(p, op, e))
        return p->failed;
    return op_record(p, op, e, e->s_comp);
}

static int hw_compute(void *pp, struct dp_compute *k)
{
    struct dp_hwplat *p = pp;
    if (p->failed)
        return p->failed;
    if (k->engine < 0 || k->engine >= (int32_t)p->n_eng)
        return DP_EINVAL;
    struct hw_op *op = op_get(p);
    if (!op)
        return hw_fail(p, DP_ENOMEM, "hw", "out of memory for an op");
    op->k = k;
    if (k->kind == DP_C_PREFILL_LAYER)
        start_prefill(p, op);
    else
        start_decode(p, op);
    return 0;
}

/* ---- time and timers ---------------------------------------------------------- */

static dp_time_t hw_now(void *pp)
{
    struct dp_hwplat *p = pp;
    return dp_clock_ns() - p->t0;
}

static void heap_swap(struct dp_hwplat *p, uint32_t a, uint32_t b)
{
    struct dp_timer *t = p->heap[a];
    p->heap[a] = p->heap[b];
    p->heap[b] = t;
}

static int hw_timer(void *pp, struct dp_timer *t)
{
    struct dp_hwplat *p = pp;
    if (p->nheap == p->capheap) {
        uint32_t cap = p->capheap ? p->capheap * 2 : 1024;
        struct dp_timer **h = realloc(p->heap, cap * sizeof *h);
        if (!h)
            return DP_ENOMEM;
        p->heap = h;
        p->capheap = cap;
    }
    uint32_t i = p->nheap++;
    p->heap[i] = t;
    while (i > 0 && p->heap[(i - 1) / 2]->at > p->heap[i]->at) {
        heap_swap(p, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static struct dp_timer *heap_pop(struct dp_hwplat *p)
{
    struct dp_timer *top = p->heap[0];
    p->heap[0] = p->heap[--p->nheap];
    for (uint32_t i = 0;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->nheap && p->heap[l]->at < p->heap[m]->at)
            m = l;
        if (r < p->nheap && p->heap[r]->at < p->heap[m]->at)
            m = r;
        if (m == i)
            break;
        heap_swap(p, i, m);
        i = m;
    }
    return top;
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
        if (hw_cuda(p, rc, "GPU work"))
            return;
        op->wait_ev = 0;
        if (op->x && op->x->kind == DP_X_STORAGE_WRITE && op->stage == 0)
            write_stage2(p, op);
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
        if (r->status)
            hw_fail(p, r->status, "hw", r->msg);
        if (--op->io_pending == 0)
            op->done = 1;
    }
    return n;
}

/* A request that ended without a write-back leaves nothing to free it:
 * after each completion, a watched request in state WRITEBACK with no
 * write pending has released its KV in core. */
static void sweep_req(struct dp_hwplat *p, struct dp_request *r, uint64_t id)
{
    struct hw_req *h = p->hash[((uintptr_t)r >> 6) % HW_HASH];
    while (h && h->r != r)
        h = h->next;
    if (h && h->id == id && r->id == id && r->state == DP_RS_WRITEBACK && !h->wr_pending)
        req_drop(p, h);
}

/* GPU time of a compute op beside what the cost model (the simulator)
 * gives the same op on this engine. */
static void compute_time(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_compute *k = op->k;
    struct hw_engine *e = op->e;
    float ms = 0;
    if (!op->timed || cudaEventElapsedTime(&ms, op->ev0[e->dev], op->ev[e->dev]) != cudaSuccess)
        return;
    const struct dp_model *m = &p->sc->model;
    if (k->kind == DP_C_PREFILL_LAYER) {
        p->st.prefill_n++;
        p->st.prefill_gpu_s += ms * 1e-3;
        p->st.prefill_model_s += dp_prefill_layer_ns(m, &e->ehw, &k->shape) * 1e-9;
    } else {
        p->st.decode_n++;
        p->st.decode_gpu_s += ms * 1e-3;
        p->st.decode_model_s += dp_decode_step_ns(m, &e->ehw, k->batch, k->ctx_tokens) * 1e-9;
    }
}

/* Finish one completed op: bookkeeping, then core's callback. */
static void complete(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct dp_compute *k = op->k;
    if (k) {
        compute_time(p, op);
        uint32_t n = k->n_reqs < 256 ? k->n_reqs : 256;
        struct dp_request *rs[256];
        uint64_t ids[256];
        for (uint32_t i = 0; i < n; i++) {
            rs[i] = k->reqs[i];
            ids[i] = rs[i]->id;
        }
        dp_core_on_compute_done(p->core, k);
        for (uint32_t i = 0; i < n; i++)
            sweep_req(p, rs[i], ids[i]);
        return;
    }
    /* storage bytes count when they have crossed the (emulated) NIC */
    if (x->kind == DP_X_STORAGE_READ)
        eng_of(p, x->dst.engine)->ctr.snic_rx += (double)x->bytes;
    if (x->kind == DP_X_STORAGE_WRITE) {
        op->e->ctr.snic_tx += (double)x->bytes;
        for (uint32_t i = 0; i < op->n_tmp; i++)
            arena_put(&op->e->dram, op->tmp[i]);
        if (op->hr)
            op->hr->wr_pending = 0;
    } else if (x->kind == DP_X_KV) {
        kv_move_done(p, op);
    }
    struct dp_request *r = x->req;
    uint64_t id = r ? r->id : 0;
    struct hw_req *h = x->kind == DP_X_STORAGE_WRITE ? op->hr : NULL;
    dp_core_on_transfer_done(p->core, x);
    if (h)
        req_drop(p, h);   /* written back: the request is over */
    else if (r && x->kind == DP_X_KV)
        sweep_req(p, r, id);
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
    while (p->nheap && p->heap[0]->at <= hw_now(p) && !p->failed) {
        dp_core_on_timer(p->core, heap_pop(p));
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
        if (!n && !p->live && !p->nheap && !dp_core_done(p->core))
            return dp_err_set(err, DP_ESTATE, "hw run stalled at t=%.3f s with %llu of %llu "
                              "requests done: nothing in flight", hw_now(p) / 1e9,
                              (unsigned long long)dp_core_requests_done(p->core),
                              (unsigned long long)dp_core_requests_total(p->core));
        if (!n) {   /* idle: wait for I/O a little, or until the next timer */
            uint64_t w = 50000;
            if (p->nheap && p->heap[0]->at > hw_now(p) && p->heap[0]->at - hw_now(p) < w)
                w = p->heap[0]->at - hw_now(p);
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

static int setup_streams(struct dp_hwplat *p, struct hw_engine *e, struct dp_err *err)
{
    int lo = 0, hi = 0;
    cudaSetDevice(e->dev);
    cudaDeviceGetStreamPriorityRange(&lo, &hi);   /* lo = least, hi = greatest */
    cudaError_t rc = cudaStreamCreateWithPriority(&e->s_lo, cudaStreamNonBlocking, lo);
    if (rc == cudaSuccess)
        rc = cudaStreamCreateWithPriority(&e->s_hi, cudaStreamNonBlocking, hi);
    if (rc == cudaSuccess)
        rc = cudaStreamCreateWithPriority(&e->s_comp, cudaStreamNonBlocking, hi);
    if (dp_cuda_fail(err, rc, "hw: streams"))
        return DP_EIO;
    if (cublasCreate(&e->blas) != CUBLAS_STATUS_SUCCESS)
        return dp_err_set(err, DP_EIO, "hw: cublasCreate failed on GPU %d", e->dev);
    cublasSetStream(e->blas, e->s_comp);
    return 0;
}

/* GEMM scratch: activations [rows x k], a k x k weight, the decode weights'
 * stand-in, the collective's buffer, the bad-block counter. */
static int setup_scratch(struct dp_hwplat *p, struct hw_engine *e, struct dp_err *err)
{
    size_t k = p->sc->model.hidden ? (p->sc->model.hidden + 63) / 64 * 64 : 4096;
    e->g_k = k > 8192 ? 8192 : k;
    size_t act = (size_t)HW_GEMM_ROWS * e->g_k * 2;
    cudaError_t rc = cudaMalloc(&e->ga, act);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&e->gc, act > HW_WTS_BYTES ? act : HW_WTS_BYTES);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&e->gb, e->g_k * e->g_k * 2);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&e->wts, HW_WTS_BYTES);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&e->a2a, HW_A2A_BYTES);
    if (rc == cudaSuccess)
        rc = cudaMalloc((void **)&e->bad_d, sizeof *e->bad_d);
    if (rc == cudaSuccess)
        rc = cudaMemset(e->bad_d, 0, sizeof *e->bad_d);
    if (rc == cudaSuccess)
        rc = dp_fill_bf16_random(e->ga, act / 2, 1, e->s_comp);
    if (rc == cudaSuccess)
        rc = dp_fill_bf16_random(e->gb, e->g_k * e->g_k, 2, e->s_comp);
    if (rc == cudaSuccess)
        rc = dp_fill_bf16_random(e->wts, HW_WTS_BYTES / 2, 3, e->s_comp);
    return dp_cuda_fail(err, rc, "hw: compute scratch");
}

static size_t scratch_bytes(const struct dp_scenario *sc)
{
    size_t k = sc->model.hidden > 8192 ? 8192 : sc->model.hidden;
    return 3 * (size_t)HW_GEMM_ROWS * k * 2 + 2 * (size_t)HW_WTS_BYTES + HW_A2A_BYTES +
           (256u << 20);   /* cuBLAS workspace and slack */
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
    cudaSetDevice(e->dev);
    if (arena_init(&e->dram, du, nd, 1))
        return dp_err_set(err, DP_ENOMEM, "hw: cannot pin %.1f GiB of host memory for engine "
                          "%d's DRAM buffer (--dram-gib sets less)", nd * (double)du / 1073741824.0,
                          e->id);
    size_t freeb = 0, total = 0;
    cudaMemGetInfo(&freeb, &total);
    double hbm = p->o.hbm_gib > 0 ? p->o.hbm_gib * 1073741824.0 : dev_free * 0.85 / per_dev;
    uint32_t nh = (uint32_t)(hbm / hu);
    if (nh < 4 || hbm > (double)freeb || arena_init(&e->hbm, hu, nh, 0))
        return dp_err_set(err, DP_ENOMEM, "hw: not enough HBM on GPU %d for engine %d: %.2f GiB "
                          "wanted, %.2f GiB free (--hbm-gib sets the arena)", e->dev, e->id,
                          hbm / 1073741824.0, freeb / 1073741824.0);
    return 0;
}

static int setup_engines(struct dp_hwplat *p, struct dp_err *err)
{
    const struct dp_scenario *sc = p->sc;
    uint32_t per_dev[HW_MAX_DEV] = {0};
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
    for (uint32_t i = 0; i < p->n_eng; i++) {
        struct hw_engine *e = &p->eng[i];
        cudaSetDevice(e->dev);
        int rc = dp_cuda_require_mem(scratch_bytes(sc), "the compute scratch", err);
        if (!rc)
            rc = setup_streams(p, e, err);
        if (!rc)
            rc = setup_scratch(p, e, err);
        if (rc)
            return rc;
    }
    double dev_free[HW_MAX_DEV] = {0};
    for (int d = 0; d < p->ngpu; d++) {
        size_t f = 0, t = 0;
        cudaSetDevice(d);
        cudaMemGetInfo(&f, &t);
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

/* Peer access between every two GPUs in use (NVLink where present). */
static void setup_peers(struct dp_hwplat *p)
{
    int n = p->ngpu < HW_MAX_DEV ? p->ngpu : HW_MAX_DEV;
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            int can = 0;
            if (a == b || cudaDeviceCanAccessPeer(&can, a, b) != cudaSuccess || !can)
                continue;
            cudaSetDevice(a);
            cudaError_t rc = cudaDeviceEnablePeerAccess(b, 0);
            p->peer[a][b] = rc == cudaSuccess || rc == cudaErrorPeerAccessAlreadyEnabled;
            cudaGetLastError();
        }
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
    cudaGetDeviceProperties(&prop, 0);
    snprintf(p->st.gpu, sizeof p->st.gpu, "%.100s", prop.name);
    p->st.ngpu = ngpu;
    rc = dp_store_open(&p->store, o->store_dir, p->L, p->lb16, -1, err);
    if (!rc)
        rc = dp_store_pool_create(&p->pool, p->store, o->io_threads > 0 ? o->io_threads : 8, err);
    if (!rc) {
        setup_peers(p);
        rc = setup_engines(p, err);
    }
    for (uint32_t i = 0; !rc && i < n_eng; i++) {
        cudaSetDevice(p->eng[i].dev);
        rc = dp_cuda_fail(err, cudaDeviceSynchronize(), "hw: setup");
    }
    if (rc) {
        dp_hwplat_destroy(p);
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

void dp_hwplat_stats(struct dp_hwplat *p, struct dp_hwplat_stats *s)
{
    p->st.slices_bad = 0;
    for (uint32_t i = 0; i < p->n_eng; i++) {
        unsigned long long bad = 0;
        cudaSetDevice(p->eng[i].dev);
        cudaDeviceSynchronize();
        if (p->eng[i].bad_d)
            cudaMemcpy(&bad, p->eng[i].bad_d, sizeof bad, cudaMemcpyDeviceToHost);
        p->st.slices_bad += bad;
    }
    p->st.wall_s = hw_now(p) / 1e9;
    *s = p->st;
}

void dp_hwplat_caps(const struct dp_hwplat *p, uint32_t engine, double *snic, double *cnic,
                    double *pcie)
{
    const struct dp_engine_hw *h = &p->eng[engine].ehw;
    *snic = h->snic_bw;
    *cnic = h->cnic_bw;
    *pcie = h->pcie_bw;
}

static void free_ops(struct hw_op *op)
{
    while (op) {
        struct hw_op *n = op->next;
        for (int d = 0; d < HW_MAX_DEV; d++) {
            if (op->ev[d])
                cudaEventDestroy(op->ev[d]);
            if (op->ev0[d])
                cudaEventDestroy(op->ev0[d]);
        }
        cudaFreeHost(op->src);
        cudaFreeHost(op->dst);
        cudaFreeHost(op->tags);
        free(op->io);
        free(op->tmp);
        free(op);
        op = n;
    }
}

void dp_hwplat_destroy(struct dp_hwplat *p)
{
    if (!p)
        return;
    dp_store_pool_destroy(p->pool);   /* waits for I/O that still targets the arenas */
    for (uint32_t i = 0; i < p->n_eng; i++) {
        cudaSetDevice(p->eng[i].dev);
        cudaDeviceSynchronize();
    }
    for (uint32_t b = 0; b < HW_HASH; b++)
        while (p->hash[b])
            req_drop(p, p->hash[b]);
    free_ops(p->live);
    free_ops(p->free_ops);
    for (uint32_t i = 0; i < p->n_eng; i++) {
        struct hw_engine *e = &p->eng[i];
        cudaSetDevice(e->dev);
        arena_free(&e->dram);
        arena_free(&e->hbm);
        cudaFree(e->ga);
        cudaFree(e->gb);
        cudaFree(e->gc);
        cudaFree(e->wts);
        cudaFree(e->a2a);
        cudaFree(e->bad_d);
        if (e->blas)
            cublasDestroy(e->blas);
        if (e->s_lo)
            cudaStreamDestroy(e->s_lo);
        if (e->s_hi)
            cudaStreamDestroy(e->s_hi);
        if (e->s_comp)
            cudaStreamDestroy(e->s_comp);
        dp_tbucket_destroy(&e->rx);
        dp_tbucket_destroy(&e->tx);
    }
    dp_store_close(p->store);
    free(p->eng);
    free(p->heap);
    free(p);
}

/* ---- compute probe ------------------------------------------------------------- */

static double probe_ms(struct dp_hwplat *p, struct hw_engine *e, const struct dp_prefill_shape *sh,
                       uint32_t batch)
{
    cudaEvent_t a, b;
    float ms = 0;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    for (int i = 0; i < 6 && !p->failed; i++) {
        if (i == 1)
            cudaEventRecord(a, e->s_comp);
        sh ? prefill_gemms(p, e, sh) : decode_gemms(p, e, batch);
    }
    cudaEventRecord(b, e->s_comp);
    cudaEventSynchronize(b);
    cudaEventElapsedTime(&ms, a, b);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return p->failed ? -1 : ms / 5;
}

int dp_hwplat_probe(const struct dp_scenario *sc, FILE *out, struct dp_err *err)
{
    static const uint32_t toks[] = {64, 256, 1024, 4096, 8192};
    static const uint32_t batches[] = {1, 8, 32, 128};
    struct dp_hwplat p;
    struct hw_engine e;
    memset(&p, 0, sizeof p);
    memset(&e, 0, sizeof e);
    p.sc = sc;
    e.gpus = sc->cluster.prefill_gpus ? sc->cluster.prefill_gpus : 1;
    dp_engine_hw_from(&e.ehw, &sc->hw, e.gpus);
    int rc = dp_cuda_require(1, NULL, err);
    if (!rc)
        rc = setup_streams(&p, &e, err);
    if (!rc)
        rc = setup_scratch(&p, &e, err);
    for (size_t i = 0; !rc && i < sizeof toks / sizeof toks[0] + 1; i++) {
        struct dp_prefill_shape sh = {0, 0, 0};
        int last = i == sizeof toks / sizeof toks[0];
        /* the last row: a later agent turn, 340 new tokens over 6000 cached */
        dp_prefill_shape_add(&sh, last ? 340 : toks[i], last ? 6000 : 0);
        double ms = probe_ms(&p, &e, &sh, 0), model = dp_prefill_layer_ns(&sc->model, &e.ehw, &sh) / 1e6;
        double tf = dp_prefill_layer_flops(&sc->model, &sh) / e.gpus / (ms * 1e-3) / 1e12;
        fprintf(out, "probe_prefill_layer new=%llu cached=%u gpu_ms=%.3f model_ms=%.3f ratio=%.2f "
                "TFLOPs=%.0f\n", (unsigned long long)sh.new_tokens, last ? 6000 : 0, ms, model,
                ms / model, tf);
    }
    for (size_t i = 0; !rc && i < sizeof batches / sizeof batches[0]; i++) {
        double ms = probe_ms(&p, &e, NULL, batches[i]);
        double model = dp_decode_step_ns(&sc->model, &e.ehw, batches[i], 0) / 1e6;
        fprintf(out, "probe_decode_weights batch=%u gpu_ms=%.3f model_ms_no_kv=%.3f ratio=%.2f\n",
                batches[i], ms, model, ms / model);
    }
    if (!rc && p.failed)
        rc = dp_err_set(err, p.failed, "%s", p.ferr.msg);
    cudaDeviceSynchronize();
    cudaFree(e.ga);
    cudaFree(e.gb);
    cudaFree(e.gc);
    cudaFree(e.wts);
    cudaFree(e.a2a);
    cudaFree(e.bad_d);
    if (e.blas)
        cublasDestroy(e.blas);
    return rc;
}
