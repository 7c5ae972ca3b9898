/* The CUDA platform's data movement (platform_cuda_impl.h): storage reads
 * into an engine's pinned DRAM arena through its storage-NIC bucket,
 * write-back (fill, gather to staging DRAM, store writes), layer loads and
 * handoff moves between arenas with the batched gather kernel (peer copies
 * where two GPUs lack peer access), and the collectives' stand-in. */
#include <stdlib.h>
#include <string.h>

#include "core/request.h"
#include "hw/blockcopy.h"
#include "hw/kvcheck.h"
#include "hw/platform_cuda_impl.h"

static cudaStream_t lane_stream(const struct hw_engine *e, const struct dp_xfer *x)
{
    return x->lane == DP_LANE_KV ? e->s_lo : e->s_hi;
}

/* ---- storage ------------------------------------------------------------------ */

static int start_read(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_engine *e = hw_eng(p, x->dst.engine);
    struct hw_req *h = hw_req_get(p, x->req);
    if (!h)
        return p->failed;
    int w = x->dst.engine == h->pe ? HW_PE_DRAM : HW_DE_DRAM;
    uint32_t n = x->block_hi - x->block_lo;
    struct dp_store_req *io = hw_op_io(p, op, n ? n : 1);
    if (!io)
        return op->status;
    if (hw_req_alloc(p, op, h, w, x->block_lo, x->block_hi))
        return op->status;
    op->hr = h;
    op->io_pending = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = x->block_lo + i;
        memset(&io[i], 0, sizeof io[i]);
        io[i].session = x->req->sess;
        io[i].block_lo = b;
        io[i].block_hi = b + 1;
        io[i].layer_hi = p->L;
        io[i].dst = hw_unit_ptr(&e->dram, h->u[w][b]);
        io[i].bucket = &e->rx;
        io[i].user = op;
        dp_store_pool_submit(p->pool, &io[i]);
    }
    op->done = n == 0;
    p->st.blocks_read += n;
    return 0;
}

/* Staging units in the DE's DRAM for blocks [lo, lo + nbk) (write-back);
 * running out fails the op alone. */
static int stage_units(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e, uint32_t nbk)
{
    if (nbk > op->tmp_cap) {
        int32_t *t = realloc(op->tmp, nbk * sizeof *t);
        if (!t) {
            op->done = 1;
            return hw_op_fail(p, op, DP_ENOMEM, "out of memory for a write-back's staging");
        }
        op->tmp = t;
        op->tmp_cap = nbk;
    }
    for (uint32_t i = 0; i < nbk; i++) {
        if ((op->tmp[i] = hw_arena_get(&e->dram)) < 0) {
            op->done = 1;
            return hw_op_fail(p, op, DP_ENOMEM, "DRAM buffer full while staging a write-back "
                              "(raise --dram-gib)");
        }
        op->n_tmp++;
    }
    return 0;
}

/* Write-back, stage 0: on the DE, give the blocks decode produced their
 * content, then copy blocks [lo, hi) from HBM into staging units. */
static int start_write(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_engine *e = hw_eng(p, x->src.engine);
    struct hw_req *h = hw_req_get(p, x->req);
    uint32_t lo = x->block_lo, hi = x->block_hi, nbk = hi > lo ? hi - lo : 0;
    if (!h || hw_op_room(p, op, 2 * nbk * p->L + 1))
        return p->failed;
    op->hr = h;
    if (hw_req_alloc(p, op, h, HW_DE_HBM, lo, hi) || stage_units(p, op, e, nbk))
        return op->status;
    if (HW_CUDA(p, cudaSetDevice(e->dev)))
        return p->failed;
    uint32_t nfill = 0;
    for (uint32_t b = lo < h->pb ? h->pb : lo; b < hi; b++)
        for (uint32_t l = 0; l < p->L; l++, nfill++)
            hw_op_add(op, NULL, hw_unit_ptr(&e->hbm, h->u[HW_DE_HBM][b]) + l * p->lb16,
                      x->req->sess, b, l);
    cudaStream_t st = lane_stream(e, x);
    if (nfill && HW_CUDA(p, dp_kv_fill_dev(op->dst, op->tags, nfill, p->lb16, st)))
        return p->failed;
    /* the fill's arrays are read by the kernel: the copy's go after them */
    uint32_t base = op->n;
    for (uint32_t i = 0; i < nbk; i++) {
        uint32_t b = lo + i;
        for (uint32_t l = 0; l < p->L; l++)
            hw_op_add(op, hw_unit_ptr(&e->hbm, h->u[HW_DE_HBM][b]) + l * p->lb16,
                      hw_unit_ptr(&e->dram, op->tmp[i]) + l * p->slot, x->req->sess, b, l);
    }
    if (op->n > base &&
        HW_CUDA(p, dp_blockcopy_gather(op->dst + base, (const void *const *)op->src + base,
                                       op->n - base, p->lb16, 0, st)))
        return p->failed;
    e->ctr.pcie_d2h += (double)x->bytes;
    return hw_op_record(p, op, e, st);
}

int hw_write_stage2(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_engine *e = op->e;
    struct dp_store_req *io = hw_op_io(p, op, op->n_tmp ? op->n_tmp : 1);
    if (!io)
        return op->status;
    op->stage = 1;
    op->io_pending = (int)op->n_tmp;
    for (uint32_t i = 0; i < op->n_tmp; i++) {
        memset(&io[i], 0, sizeof io[i]);
        io[i].write = 1;
        io[i].session = x->req->sess;
        io[i].block_lo = x->block_lo + i;
        io[i].block_hi = x->block_lo + i + 1;
        io[i].dst = hw_unit_ptr(&e->dram, op->tmp[i]);
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
    struct hw_arena *as = hw_where_arena(p, h, ws), *ad = hw_where_arena(p, h, wd);
    size_t ss = as->host ? p->slot : p->lb16, ds = ad->host ? p->slot : p->lb16;
    for (uint32_t b = lo; b < hi && b < h->nb; b++) {
        if ((h->u[ws][b] < 0) != missing)
            continue;
        uint8_t *s = missing ? NULL : hw_unit_ptr(as, h->u[ws][b]);
        uint8_t *d = hw_unit_ptr(ad, h->u[wd][b]);
        if (whole) {
            hw_op_add(op, s, d, h->r->sess, b, 0);
            continue;
        }
        for (uint32_t l = l_lo; l < l_hi; l++)
            hw_op_add(op, s ? s + l * ss : NULL, d + l * ds, h->r->sess, b, l);
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
    if (HW_CUDA(p, cudaSetDevice(dst->dev)))
        return p->failed;
    if (nfill && HW_CUDA(p, dp_kv_fill_dev(op->dst + ncopy, op->tags + ncopy, nfill, p->lb16,
                                           st)))
        return p->failed;
    op->n = ncopy;
    if (op->n && src_hbm && src->dev != dst->dev && !p->peer[dst->dev][src->dev]) {
        for (uint32_t i = 0; i < op->n; i++)
            if (HW_CUDA(p, cudaMemcpyPeerAsync(op->dst[i], dst->dev, op->src[i], src->dev,
                                               bytes, st)))
                return p->failed;
    } else if (op->n &&
               HW_CUDA(p, dp_blockcopy_gather(op->dst, (const void *const *)op->src, op->n,
                                              bytes, 0, st))) {
        return p->failed;
    }
    p->st.kernels++;
    return hw_op_record(p, op, dst, st);
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
    struct hw_engine *s = hw_eng(p, x->src.engine), *d = hw_eng(p, x->dst.engine);
    uint32_t need = 0, ncopy = 0;
    for (uint32_t i = 0; i < x->n_reqs; i++)
        need += x->reqs[i]->cached_blocks * (x->layer_hi - x->layer_lo);
    if (hw_op_room(p, op, need + 1))
        return p->failed;
    for (int missing = 0; missing < 2; missing++) {
        for (uint32_t i = 0; i < x->n_reqs; i++) {
            struct dp_request *r = x->reqs[i];
            struct hw_req *h = hw_req_get(p, r);
            if (!h)
                return p->failed;
            if (hw_req_alloc(p, op, h, HW_PE_HBM, 0, h->pb))
                return op->status;
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
    struct hw_engine *s = hw_eng(p, x->src.engine), *d = hw_eng(p, x->dst.engine);
    struct hw_req *h = hw_req_get(p, x->req);
    if (!h)
        return p->failed;
    int ws = where_of(h, x->src), wd = where_of(h, x->dst);
    int out_of_pe = ws == HW_PE_HBM && wd != HW_PE_HBM;
    uint32_t n = (x->block_hi - x->block_lo) + (out_of_pe ? h->pb : 0);
    if (hw_op_room(p, op, 2 * n * p->L + 1))
        return p->failed;
    op->hr = h;
    if (hw_req_alloc(p, op, h, wd, x->block_lo, x->block_hi) ||
        (out_of_pe && hw_req_alloc(p, op, h, wd, x->req->cached_blocks, h->pb)))
        return op->status;
    int whole = ws >= HW_PE_HBM && wd >= HW_PE_HBM;
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

/* Free what core frees when a move completes, landed or failed
 * (platform_cuda_impl.h). */
static void kv_move_done(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    struct hw_req *h = op->hr;
    if (!h || x->reqs)
        return;
    int ws = where_of(h, x->src), wd = where_of(h, x->dst);
    if (ws == HW_PE_HBM && wd != HW_PE_HBM) {
        hw_req_units_free(p, h, HW_PE_HBM);
        hw_req_units_free(p, h, HW_PE_DRAM);
    } else if (ws == HW_DE_DRAM && wd == HW_DE_HBM) {
        hw_req_units_free(p, h, HW_DE_DRAM);
    }
}

/* A collective's stand-in: its bytes copied within HBM on the model's
 * high-priority stream. */
static int start_collective(struct dp_hwplat *p, struct hw_op *op)
{
    struct hw_engine *e = hw_eng(p, op->x->src.engine);
    size_t half = HW_A2A_BYTES / 2, n = op->x->bytes < half ? op->x->bytes : half;
    if (HW_CUDA(p, cudaSetDevice(e->dev)))
        return p->failed;
    if (n && HW_CUDA(p, cudaMemcpyAsync(e->a2a, (uint8_t *)e->a2a + half, n,
                                        cudaMemcpyDeviceToDevice, e->s_hi)))
        return p->failed;
    e->ctr.cnic_tx += (double)op->x->bytes;
    e->ctr.cnic_rx += (double)op->x->bytes;
    return hw_op_record(p, op, e, e->s_hi);
}

int hw_move(void *pp, struct dp_xfer *x)
{
    struct dp_hwplat *p = pp;
    if (p->failed)
        return p->failed;
    if ((x->src.engine >= (int32_t)p->n_eng) || (x->dst.engine >= (int32_t)p->n_eng))
        return DP_EINVAL;
    struct hw_op *op = hw_op_get(p);
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

void hw_xfer_finish(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_xfer *x = op->x;
    /* storage bytes count when they have crossed the (emulated) NIC */
    if (x->kind == DP_X_STORAGE_READ && !op->status)
        hw_eng(p, x->dst.engine)->ctr.snic_rx += (double)x->bytes;
    if (x->kind == DP_X_STORAGE_WRITE) {
        struct hw_engine *e = hw_eng(p, x->src.engine);
        if (!op->status)
            e->ctr.snic_tx += (double)x->bytes;
        for (uint32_t i = 0; i < op->n_tmp; i++)
            hw_arena_put(&e->dram, op->tmp[i]);
    } else if (x->kind == DP_X_KV) {
        kv_move_done(p, op);
    }
}
