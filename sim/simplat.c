/* The simulator's implementation of the platform seam. */
#include "sim/simplat.h"

#include <stdlib.h>
#include <string.h>

enum { OP_XFER, OP_COMPUTE, OP_TIMER };

struct sim_op {
    struct dp_ev ev;
    struct dp_flow flow;
    void *desc;
    struct dp_sim *sim;
    uint8_t what;
    struct sim_op *next_free;
};

#define OPS_PER_CHUNK 4096

static struct sim_op *op_alloc(struct dp_sim *s)
{
    if (!s->free_ops) {
        struct sim_op *chunk = calloc(OPS_PER_CHUNK, sizeof *chunk);
        struct sim_op **cs = realloc(s->chunks, (s->n_chunks + 1) * sizeof *cs);
        if (!chunk || !cs) {
            free(chunk);
            if (cs)
                s->chunks = cs;
            return NULL;
        }
        s->chunks = cs;
        s->chunks[s->n_chunks++] = chunk;
        for (int i = OPS_PER_CHUNK - 1; i >= 0; i--) {
            chunk[i].next_free = s->free_ops;
            s->free_ops = &chunk[i];
        }
    }
    struct sim_op *op = s->free_ops;
    s->free_ops = op->next_free;
    op->sim = s;
    s->ops_live++;
    return op;
}

static void op_free(struct dp_sim *s, struct sim_op *op)
{
    op->next_free = s->free_ops;
    s->free_ops = op;
    s->ops_live--;
}

static uint32_t link_of(const struct dp_sim *s, int32_t engine, int kind)
{
    return s->links[(uint32_t)engine * L_PER_ENGINE + (uint32_t)kind];
}

static int add_engine_links(struct dp_sim *s, uint32_t e, struct dp_err *err)
{
    static const char *const names[L_PER_ENGINE] = { "snic_rx", "snic_tx", "cnic_rx",
                                                     "cnic_tx", "pcie_h2d", "pcie_d2h" };
    const struct dp_engine_hw *h = &s->hw[e];
    double bw[L_PER_ENGINE] = { h->snic_bw, h->snic_bw, h->cnic_bw,
                                h->cnic_bw, h->pcie_bw, h->pcie_bw };
    for (int k = 0; k < L_PER_ENGINE; k++) {
        char name[48];
        snprintf(name, sizeof name, "e%u.%s", e, names[k]);
        int id = dp_net_add_link(&s->net, name, bw[k]);
        if (id < 0)
            return dp_err_set(err, DP_EINVAL, "hardware: link %s has bandwidth %g; every bandwidth must be > 0",
                              name, bw[k]);
        s->links[e * L_PER_ENGINE + (uint32_t)k] = (uint32_t)id;
    }
    return 0;
}

int dp_sim_init(struct dp_sim *s, const struct dp_scenario *sc, struct dp_err *err)
{
    memset(s, 0, sizeof *s);
    s->sc = sc;
    s->n_engines = sc->cluster.prefill_engines + sc->cluster.decode_engines;
    s->hw = calloc(s->n_engines, sizeof *s->hw);
    s->links = calloc((size_t)s->n_engines * L_PER_ENGINE, sizeof *s->links);
    s->last_shape = calloc(s->n_engines, sizeof *s->last_shape);
    s->last_layer_ns = calloc(s->n_engines, sizeof *s->last_layer_ns);
    if (!s->hw || !s->links || !s->last_shape || !s->last_layer_ns || dp_evq_init(&s->q) || dp_net_init(&s->net, &s->q))
        return dp_err_set(err, DP_ENOMEM, "out of memory for %u engines", s->n_engines);
    for (uint32_t e = 0; e < s->n_engines; e++) {
        int pe = e < sc->cluster.prefill_engines;
        dp_engine_hw_from(&s->hw[e], &sc->hw, pe ? sc->cluster.prefill_gpus : sc->cluster.decode_gpus);
        int rc = add_engine_links(s, e, err);
        if (rc)
            return rc;
    }
    /* The backend only joins a path when it can bind: with the sum of the
     * storage NICs below it, it would never be the bottleneck. */
    s->storage_rd = s->storage_wr = -1;
    if (sc->hw.storage_read_bw > 0)
        s->storage_rd = dp_net_add_link(&s->net, "storage.read", sc->hw.storage_read_bw);
    if (sc->hw.storage_write_bw > 0)
        s->storage_wr = dp_net_add_link(&s->net, "storage.write", sc->hw.storage_write_bw);
    return 0;
}

void dp_sim_free(struct dp_sim *s)
{
    /* the queue and the net still point into the op chunks: free them first */
    dp_net_free(&s->net);
    dp_evq_free(&s->q);
    for (uint32_t i = 0; i < s->n_chunks; i++)
        free(s->chunks[i]);
    free(s->chunks);
    free(s->hw);
    free(s->links);
    free(s->last_shape);
    free(s->last_layer_ns);
    memset(s, 0, sizeof *s);
}

/* ---- the ops ----------------------------------------------------- */

static dp_time_t sim_now(void *p) { return ((struct dp_sim *)p)->now; }

/* The links a transfer crosses. */
static unsigned route(const struct dp_sim *s, const struct dp_xfer *x, uint32_t *path)
{
    unsigned n = 0;
    switch (x->kind) {
    case DP_X_STORAGE_READ:
        if (s->storage_rd >= 0)
            path[n++] = (uint32_t)s->storage_rd;
        path[n++] = link_of(s, x->dst.engine, L_SNIC_RX);
        break;
    case DP_X_STORAGE_WRITE:
        if (x->src.tier == DP_TIER_HBM)
            path[n++] = link_of(s, x->src.engine, L_PCIE_D2H);
        path[n++] = link_of(s, x->src.engine, L_SNIC_TX);
        if (s->storage_wr >= 0)
            path[n++] = (uint32_t)s->storage_wr;
        break;
    case DP_X_COLLECTIVE:
        path[n++] = link_of(s, x->src.engine, L_CNIC_TX);
        path[n++] = link_of(s, x->src.engine, L_CNIC_RX);
        break;
    default:
        if (x->src.engine != x->dst.engine) {
            /* RDMA between engines, from host or device memory */
            path[n++] = link_of(s, x->src.engine, L_CNIC_TX);
            path[n++] = link_of(s, x->dst.engine, L_CNIC_RX);
        } else if (x->src.tier == DP_TIER_DRAM && x->dst.tier == DP_TIER_HBM) {
            path[n++] = link_of(s, x->src.engine, L_PCIE_H2D);
        } else if (x->src.tier == DP_TIER_HBM && x->dst.tier == DP_TIER_DRAM) {
            path[n++] = link_of(s, x->src.engine, L_PCIE_D2H);
        }
        break;
    }
    return n;
}

static void xfer_done(struct dp_flow *f, void *ctx)
{
    struct sim_op *op = ctx;
    struct dp_sim *s = op->sim;
    struct dp_xfer *x = op->desc;
    op_free(s, op);
    s->events++;
    x->status = 0;   /* the simulated cluster never fails a transfer */
    dp_core_on_transfer_done(s->core, x);
}

static void instant_done(struct dp_ev *ev, void *ctx)
{
    xfer_done(NULL, ctx);
}

static int sim_move(void *p, struct dp_xfer *x)
{
    struct dp_sim *s = p;
    if (x->src.engine >= (int32_t)s->n_engines || x->dst.engine >= (int32_t)s->n_engines)
        return DP_EINVAL;
    struct sim_op *op = op_alloc(s);
    if (!op)
        return DP_ENOMEM;
    op->what = OP_XFER;
    op->desc = x;
    uint32_t path[DP_PATH_MAX];
    unsigned n = route(s, x, path);
    if (n == 0) {
        /* nothing to cross (a copy within one memory): done now */
        dp_ev_init(&op->ev, instant_done, op);
        return dp_evq_schedule(&s->q, &op->ev, s->now);
    }
    return dp_flow_start(&s->net, &op->flow, path, n, x->lane, (double)x->bytes, s->now,
                         xfer_done, op);
}

static void compute_done(struct dp_ev *ev, void *ctx)
{
    struct sim_op *op = ctx;
    struct dp_sim *s = op->sim;
    struct dp_compute *k = op->desc;
    op_free(s, op);
    k->status = 0;
    dp_core_on_compute_done(s->core, k);
}

static uint64_t prefill_layer_ns(struct dp_sim *s, const struct dp_compute *k)
{
    struct dp_prefill_shape *last = &s->last_shape[k->engine];
    if (memcmp(last, &k->shape, sizeof *last) != 0 || !s->last_layer_ns[k->engine]) {
        *last = k->shape;
        s->last_layer_ns[k->engine] = dp_prefill_layer_ns(&s->sc->model, &s->hw[k->engine],
                                                          &k->shape);
    }
    return s->last_layer_ns[k->engine];
}

static int sim_compute(void *p, struct dp_compute *k)
{
    struct dp_sim *s = p;
    uint64_t ns = k->kind == DP_C_PREFILL_LAYER
                      ? prefill_layer_ns(s, k)
                      : dp_decode_step_ns(&s->sc->model, &s->hw[k->engine], k->batch,
                                          k->ctx_tokens);
    struct sim_op *op = op_alloc(s);
    if (!op)
        return DP_ENOMEM;
    op->what = OP_COMPUTE;
    op->desc = k;
    dp_ev_init(&op->ev, compute_done, op);
    /* the cost model saturates at UINT64_MAX ns; so does the clock */
    uint64_t at = ns > UINT64_MAX - s->now ? UINT64_MAX : s->now + ns;
    return dp_evq_schedule(&s->q, &op->ev, at);
}

static void timer_fired(struct dp_ev *ev, void *ctx)
{
    struct sim_op *op = ctx;
    struct dp_sim *s = op->sim;
    struct dp_timer *t = op->desc;
    op_free(s, op);
    dp_core_on_timer(s->core, t);
}

static int sim_timer(void *p, struct dp_timer *t)
{
    struct dp_sim *s = p;
    struct sim_op *op = op_alloc(s);
    if (!op)
        return DP_ENOMEM;
    op->what = OP_TIMER;
    op->desc = t;
    dp_ev_init(&op->ev, timer_fired, op);
    return dp_evq_schedule(&s->q, &op->ev, t->at > s->now ? t->at : s->now);
}

static void sim_counters(void *p, int32_t e, struct dp_link_counters *out)
{
    struct dp_sim *s = p;
    out->snic_rx = dp_link_bytes(&s->net, link_of(s, e, L_SNIC_RX), s->now);
    out->snic_tx = dp_link_bytes(&s->net, link_of(s, e, L_SNIC_TX), s->now);
    out->cnic_rx = dp_link_bytes(&s->net, link_of(s, e, L_CNIC_RX), s->now);
    out->cnic_tx = dp_link_bytes(&s->net, link_of(s, e, L_CNIC_TX), s->now);
    out->pcie_h2d = dp_link_bytes(&s->net, link_of(s, e, L_PCIE_H2D), s->now);
    out->pcie_d2h = dp_link_bytes(&s->net, link_of(s, e, L_PCIE_D2H), s->now);
}

const struct dp_platform_ops dp_sim_ops = {
    .name = "sim",
    .now = sim_now,
    .move = sim_move,
    .compute = sim_compute,
    .timer = sim_timer,
    .counters = sim_counters,
};
