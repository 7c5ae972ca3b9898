/* Prefill engines: intra-engine batch selection under a compute quota, and
 * layerwise prefill: the KV of layer l+1 (and up to prefetch_layers ahead)
 * moves into HBM while layer l computes, from the PE's own DRAM buffer over
 * PCIe (PE read path) and from decode engines' DRAM buffers over the compute
 * network (DE read path). */
#include "core/core_impl.h"

#include <stdlib.h>
#include <string.h>

void core_prefill_ready(struct dp_core *c, struct dp_request *r)
{
    struct dp_engine *pe = core_engine(c, r->pe);
    r->state = DP_RS_READY;
    r->t_ready = core_now(c);
    if (dp_fifo_push(&pe->ready_q, r)) {
        core_fail(c, DP_ENOMEM, "out of memory for the ready queue");
        return;
    }
    core_prefill_try(c, pe);
}

/* The compute quota: a batch takes ready requests in arrival order while
 * their new tokens stay within prefill_batch_tokens and the estimated batch
 * time within prefill_batch_ms (when set), and their new KV fits in HBM.
 * Only requests whose KV is already in a DRAM buffer are ready, so the
 * engine never idles on a load while loaded requests wait. */
static uint32_t select_batch(struct dp_core *c, struct dp_engine *pe,
                             struct dp_prefill_shape *shape, double *hbm)
{
    const struct dp_scenario *sc = c->sc;
    uint32_t n = 0;
    memset(shape, 0, sizeof *shape);
    *hbm = 0;
    for (; n < pe->ready_q.n; n++) {
        struct dp_request *r = dp_fifo_at(&pe->ready_q, n);
        struct dp_prefill_shape s = *shape;
        dp_prefill_shape_add(&s, r->new_tokens, dp_req_cached_tokens(r));
        double need = r->new_tokens * r->kv_tok;
        int fits = pe->hbm_used + *hbm + need <= pe->hbm_cap || (pe->hbm_used + *hbm == 0);
        if (!fits)
            break;
        if (n > 0) {
            if (s.new_tokens > sc->sched.prefill_batch_tokens)
                break;
            if (sc->sched.prefill_batch_ms > 0) {
                double ms = (double)dp_prefill_layer_ns(&sc->model, &pe->hw, &s) *
                            sc->model.n_layers / 1e6;
                if (ms > sc->sched.prefill_batch_ms)
                    break;
            }
        }
        *shape = s;
        *hbm += need;
    }
    return n;
}

static void batch_free(struct dp_batch *b)
{
    if (!b)
        return;
    free(b->reqs);
    free(b->src_engine);
    free(b->src_layer_bytes);
    free(b->loads);
    free(b->load_pending);
    free(b);
}

/* A run stopped mid-batch (max_time_s, a signal): dp_core_destroy frees it. */
void core_prefill_free(struct dp_engine *pe)
{
    batch_free(pe->batch);
    pe->batch = NULL;
}

/* Load sources: the PE's own buffer first, then each DE in first-use order. */
static int plan_sources(struct dp_core *c, struct dp_batch *b)
{
    uint32_t max_src = 1 + b->n;
    b->src_engine = malloc(max_src * sizeof *b->src_engine);
    b->src_layer_bytes = calloc(max_src, sizeof *b->src_layer_bytes);
    if (!b->src_engine || !b->src_layer_bytes)
        return -1;
    b->src_engine[0] = b->pe->id;
    b->n_src = 1;
    for (uint32_t i = 0; i < b->n; i++) {
        struct dp_request *r = b->reqs[i];
        double per_block = r->block_tokens * c->kv_tok_layer;
        b->src_layer_bytes[0] += dp_req_pe_blocks(r) * per_block;
        if (!r->de_blocks)
            continue;
        uint32_t s = 1;
        while (s < b->n_src && b->src_engine[s] != r->de)
            s++;
        if (s == b->n_src)
            b->src_engine[b->n_src++] = r->de;
        b->src_layer_bytes[s] += r->de_blocks * per_block;
    }
    b->loads = calloc((size_t)b->n_layers * b->n_src, sizeof *b->loads);
    b->load_pending = calloc(b->n_layers, sizeof *b->load_pending);
    return b->loads && b->load_pending ? 0 : -1;
}

static void issue_loads(struct dp_core *c, struct dp_batch *b, uint32_t upto)
{
    if (upto > b->n_layers)
        upto = b->n_layers;
    for (; b->next_load < upto; b->next_load++) {
        uint32_t l = b->next_load;
        for (uint32_t s = 0; s < b->n_src; s++) {
            if (b->src_layer_bytes[s] <= 0)
                continue;
            struct dp_xfer *x = &b->loads[(size_t)l * b->n_src + s];
            x->kind = DP_X_KV;
            x->lane = DP_LANE_KV;
            x->tag = T_LAYER_LOAD;
            x->src = (struct dp_loc){ b->src_engine[s], DP_TIER_DRAM };
            x->dst = (struct dp_loc){ b->pe->id, DP_TIER_HBM };
            x->bytes = (uint64_t)b->src_layer_bytes[s];
            x->layer_lo = l;
            x->layer_hi = l + 1;
            x->reqs = b->reqs;
            x->n_reqs = b->n;
            x->owner = b;
            b->load_pending[l]++;
            if (core_move(c, x))
                return;
        }
    }
}

static void try_compute(struct dp_core *c, struct dp_batch *b)
{
    if (b->layer_parts || b->next_compute >= b->n_layers)
        return;
    uint32_t l = b->next_compute;
    issue_loads(c, b, l + c->sc->sched.prefetch_layers);
    if (b->load_pending[l])
        return;
    struct dp_compute *k = &b->comp;
    memset(k, 0, sizeof *k);
    k->kind = DP_C_PREFILL_LAYER;
    k->tag = T_PREFILL;
    k->engine = b->pe->id;
    k->layer = l;
    k->shape = b->shape;
    k->reqs = b->reqs;
    k->n_reqs = b->n;
    k->owner = b;
    b->layer_parts = 1;
    /* With overlap, the layer's all-to-all runs beside its compute (two
     * micro-batches); without, it follows the compute (part_done). */
    if (b->a2a_layer_bytes > 0 && c->sc->traffic.overlap_a2a) {
        b->layer_parts++;
        if (core_collective(c, &b->a2a, b->pe, b->a2a_layer_bytes, T_PREFILL_A2A, b, l, l + 1))
            return;
    }
    core_compute(c, k);
}

static void batch_start(struct dp_core *c, struct dp_engine *pe, uint32_t n,
                        const struct dp_prefill_shape *shape, double hbm)
{
    struct dp_batch *b = calloc(1, sizeof *b);
    if (!b || !(b->reqs = malloc(n * sizeof *b->reqs))) {
        free(b);
        core_fail(c, DP_ENOMEM, "out of memory for a prefill batch");
        return;
    }
    dp_time_t now = core_now(c);
    b->pe = pe;
    b->n = n;
    b->shape = *shape;
    b->n_layers = c->sc->model.n_layers;
    for (uint32_t i = 0; i < n; i++) {
        struct dp_request *r = dp_fifo_pop(&pe->ready_q);
        r->state = DP_RS_PREFILL;
        r->t_prefill = now;
        r->hbm_pe = r->new_tokens * r->kv_tok;
        b->reqs[i] = r;
    }
    pe->hbm_used += hbm;
    b->a2a_layer_bytes = dp_a2a_layer_bytes(&c->sc->model, &pe->hw, shape->new_tokens);
    if (plan_sources(c, b)) {
        batch_free(b);
        core_fail(c, DP_ENOMEM, "out of memory for a prefill batch");
        return;
    }
    pe->batch = b;
    pe->batches++;
    issue_loads(c, b, c->sc->sched.prefetch_layers);
    try_compute(c, b);
}

void core_prefill_try(struct dp_core *c, struct dp_engine *pe)
{
    if (pe->batch || !pe->ready_q.n || c->stopped)
        return;
    struct dp_prefill_shape shape;
    double hbm;
    uint32_t n = select_batch(c, pe, &shape, &hbm);
    if (n)
        batch_start(c, pe, n, &shape, hbm);
}

/* A failed layer load fails the requests whose blocks it carried from that
 * source; the batch goes on for the others. */
void core_prefill_load_done(struct dp_core *c, struct dp_xfer *x)
{
    struct dp_batch *b = x->owner;
    for (uint32_t i = 0; x->status < 0 && i < b->n; i++) {
        struct dp_request *r = b->reqs[i];
        int from_pe = x->src.engine == b->pe->id && dp_req_pe_blocks(r) > 0;
        int from_de = x->src.engine == r->de && r->de_blocks > 0;
        if (from_pe || from_de)
            r->failed = 1;
    }
    b->load_pending[x->layer_lo]--;
    try_compute(c, b);
}

void core_prefill_fail(struct dp_core *c, struct dp_batch *b)
{
    (void)c;
    for (uint32_t i = 0; i < b->n; i++)
        b->reqs[i]->failed = 1;
}

static void batch_done(struct dp_core *c, struct dp_batch *b)
{
    struct dp_engine *pe = b->pe;
    dp_time_t now = core_now(c);
    pe->batch = NULL;
    for (uint32_t i = 0; i < b->n; i++) {
        struct dp_request *r = b->reqs[i];
        r->t_first = now;
        r->tokens_out = 1;
        pe->pending_tokens -= r->new_tokens;
        if (r->failed)
            core_request_abort(c, r);
        else
            core_handoff_start(c, r);
    }
    batch_free(b);
    core_prefill_try(c, pe);
}

void core_prefill_part_done(struct dp_core *c, struct dp_batch *b, int compute_part)
{
    if (compute_part && b->a2a_layer_bytes > 0 && !c->sc->traffic.overlap_a2a) {
        uint32_t l = b->next_compute;
        core_collective(c, &b->a2a, b->pe, b->a2a_layer_bytes, T_PREFILL_A2A, b, l, l + 1);
        return;   /* the collective is now the layer's outstanding part */
    }
    if (--b->layer_parts)
        return;
    if (++b->next_compute == b->n_layers)
        batch_done(c, b);
    else
        try_compute(c, b);
}
