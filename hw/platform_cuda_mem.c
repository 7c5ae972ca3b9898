/* The CUDA platform's memory bookkeeping (platform_cuda_impl.h): arenas of
 * fixed-size units per engine, the record of where each request's blocks
 * are, and the op records that carry a GPU/I/O operation through the
 * progress loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/request.h"
#include "hw/platform_cuda_impl.h"

/* ---- arenas: fixed-size units on a free stack --------------------------- */

int hw_arena_init(struct hw_arena *a, size_t unit, uint32_t n, int host, struct dp_err *err)
{
    a->unit = unit;
    a->n = a->nfree = n;
    a->host = host;
    a->free = malloc((size_t)n * sizeof *a->free);
    if (!a->free)
        return dp_err_set(err, DP_ENOMEM, "out of memory for an arena's free list");
    for (uint32_t i = 0; i < n; i++)
        a->free[i] = n - 1 - i;
    int rc = host ? DP_CUDA(err, cudaHostAlloc((void **)&a->base, unit * n,
                                               cudaHostAllocMapped | cudaHostAllocPortable))
                  : DP_CUDA(err, cudaMalloc((void **)&a->base, unit * n));
    if (rc)
        a->base = NULL;
    return rc;
}

void hw_arena_free(struct hw_arena *a, int *rc, struct dp_err *err)
{
    if (a->base && a->host)
        DP_CUDA_KEEP(*rc, err, cudaFreeHost(a->base));
    else if (a->base)
        DP_CUDA_KEEP(*rc, err, cudaFree(a->base));
    free(a->free);
    memset(a, 0, sizeof *a);
}

int32_t hw_arena_get(struct hw_arena *a)
{
    return a->nfree ? (int32_t)a->free[--a->nfree] : -1;
}

void hw_arena_put(struct hw_arena *a, int32_t u)
{
    if (u >= 0)
        a->free[a->nfree++] = (uint32_t)u;
}

/* ---- request records ------------------------------------------------------ */

struct hw_arena *hw_where_arena(struct dp_hwplat *p, struct hw_req *h, int w)
{
    struct hw_engine *e = hw_eng(p, w == HW_PE_DRAM || w == HW_PE_HBM ? h->pe : h->de);
    return w == HW_PE_DRAM || w == HW_DE_DRAM ? &e->dram : &e->hbm;
}

void hw_req_units_free(struct dp_hwplat *p, struct hw_req *h, int w)
{
    struct hw_arena *a = hw_where_arena(p, h, w);
    for (uint32_t b = 0; b < h->nb; b++) {
        hw_arena_put(a, h->u[w][b]);
        h->u[w][b] = -1;
    }
}

void hw_req_free(struct dp_hwplat *p, struct hw_req *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        p->reqs = h->next;
    if (h->next)
        h->next->prev = h->prev;
    for (int w = 0; w < 4; w++)
        hw_req_units_free(p, h, w);
    free(h->u[0]);
    free(h);
}

void hw_release(void *plat, struct dp_request *r)
{
    struct dp_hwplat *p = plat;
    if (r->plat)
        hw_req_free(p, r->plat);
    r->plat = NULL;
}

struct hw_req *hw_req_get(struct dp_hwplat *p, struct dp_request *r)
{
    if (r->plat)
        return r->plat;
    if (r->block_tokens != p->bt) {
        char msg[160];
        snprintf(msg, sizeof msg, "a request has %u-token blocks, the store %u-token ones "
                 "(workload and scenario block_tokens differ)", r->block_tokens, p->bt);
        hw_fail(p, DP_EINVAL, "hw", msg);
        return NULL;
    }
    struct hw_req *h = calloc(1, sizeof *h);
    uint32_t nb = hw_div_up((uint64_t)r->input_tokens + r->output_tokens, r->block_tokens) + 1;
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
    h->pe = r->pe;
    h->de = r->de;
    h->nb = nb;
    h->pb = hw_div_up(r->input_tokens, r->block_tokens);
    h->next = p->reqs;
    if (p->reqs)
        p->reqs->prev = h;
    p->reqs = h;
    r->plat = h;
    return h;
}

int hw_req_alloc(struct dp_hwplat *p, struct hw_op *op, struct hw_req *h, int w, uint32_t lo,
                 uint32_t hi)
{
    static const char *const names[] = {"DRAM buffer", "DRAM buffer", "HBM", "HBM"};
    struct hw_arena *a = hw_where_arena(p, h, w);
    for (uint32_t b = lo; b < hi && b < h->nb; b++) {
        if (h->u[w][b] >= 0)
            continue;
        if ((h->u[w][b] = hw_arena_get(a)) < 0) {
            char msg[256];
            int32_t e = w == HW_PE_DRAM || w == HW_PE_HBM ? h->pe : h->de;
            snprintf(msg, sizeof msg, "engine %d's %s is full (%u blocks of %.1f MiB); "
                     "raise --%s or shrink the scenario", e, names[w], a->n,
                     a->unit / 1048576.0, w <= HW_DE_DRAM ? "dram-gib" : "hbm-gib");
            op->done = 1;
            return hw_op_fail(p, op, DP_ENOMEM, msg);
        }
    }
    return 0;
}

/* ---- op records ------------------------------------------------------------ */

struct hw_op *hw_op_get(struct dp_hwplat *p)
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
    op->status = 0;
    op->wait_ev = op->io_pending = op->stage = op->done = op->timed = 0;
    op->n = op->n_tmp = 0;
    op->next = p->live;
    p->live = op;
    return op;
}

int hw_op_room(struct dp_hwplat *p, struct hw_op *op, uint32_t n)
{
    if (n <= op->cap)
        return 0;
    uint32_t cap = n < 1024 ? 1024 : n + n / 2;
    if (op->src)
        HW_CUDA(p, cudaFreeHost(op->src));
    if (op->dst)
        HW_CUDA(p, cudaFreeHost(op->dst));
    if (op->tags)
        HW_CUDA(p, cudaFreeHost(op->tags));
    op->src = op->dst = NULL;
    op->tags = NULL;
    op->cap = 0;
    if (p->failed)
        return p->failed;
    unsigned f = cudaHostAllocMapped | cudaHostAllocPortable;
    if (HW_CUDA(p, cudaHostAlloc((void **)&op->src, cap * sizeof(void *), f)) ||
        HW_CUDA(p, cudaHostAlloc((void **)&op->dst, cap * sizeof(void *), f)) ||
        HW_CUDA(p, cudaHostAlloc((void **)&op->tags, cap * sizeof *op->tags, f)))
        return p->failed;
    op->cap = cap;
    return 0;
}

void hw_op_add(struct hw_op *op, void *src, void *dst, uint64_t sess, uint32_t b, uint32_t l)
{
    op->src[op->n] = src;
    op->dst[op->n] = dst;
    op->tags[op->n] = (struct dp_kv_tag){sess, b, l};
    op->n++;
}

struct dp_store_req *hw_op_io(struct dp_hwplat *p, struct hw_op *op, uint32_t n)
{
    if (n > op->io_cap) {
        struct dp_store_req *io = realloc(op->io, n * sizeof *io);
        if (!io) {
            op->done = 1;
            hw_op_fail(p, op, DP_ENOMEM, "out of memory for I/O requests");
            return NULL;
        }
        op->io = io;
        op->io_cap = n;
    }
    return op->io;
}

int hw_op_record(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e, cudaStream_t st)
{
    if (HW_CUDA(p, cudaSetDevice(e->dev)))
        return p->failed;
    if (!op->ev[e->dev] && HW_CUDA(p, cudaEventCreate(&op->ev[e->dev])))
        return p->failed;
    op->e = e;
    op->wait_ev = 1;
    return HW_CUDA(p, cudaEventRecord(op->ev[e->dev], st));
}

int hw_op_start_timing(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e)
{
    if (HW_CUDA(p, cudaSetDevice(e->dev)))
        return p->failed;
    if (!op->ev0[e->dev] && HW_CUDA(p, cudaEventCreate(&op->ev0[e->dev])))
        return p->failed;
    op->timed = 1;
    return HW_CUDA(p, cudaEventRecord(op->ev0[e->dev], e->s_comp));
}

void hw_ops_free(struct hw_op *op, int *rc, struct dp_err *err)
{
    while (op) {
        struct hw_op *n = op->next;
        for (int d = 0; d < HW_MAX_DEV; d++) {
            if (op->ev[d])
                DP_CUDA_KEEP(*rc, err, cudaEventDestroy(op->ev[d]));
            if (op->ev0[d])
                DP_CUDA_KEEP(*rc, err, cudaEventDestroy(op->ev0[d]));
        }
        if (op->src)
            DP_CUDA_KEEP(*rc, err, cudaFreeHost(op->src));
        if (op->dst)
            DP_CUDA_KEEP(*rc, err, cudaFreeHost(op->dst));
        if (op->tags)
            DP_CUDA_KEEP(*rc, err, cudaFreeHost(op->tags));
        free(op->io);
        free(op->tmp);
        free(op);
        op = n;
    }
}
