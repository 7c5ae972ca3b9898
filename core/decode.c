/* Decode engines: admission (HBM room for the request's whole context and
 * output), the KV handoff from the prefill engine, continuous batching. */
#include "core/core_impl.h"

#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

void core_handoff_start(struct dp_core *c, struct dp_request *r)
{
    struct dp_engine *de = core_engine(c, r->de);
    r->state = DP_RS_HANDOFF;
    if (dp_fifo_push(&de->admit_q, r)) {
        core_fail(c, DP_ENOMEM, "out of memory for the admission queue");
        return;
    }
    core_admit_pump(c, de);
}

static void kv_move(struct dp_core *c, struct dp_request *r, struct dp_xfer *x, uint16_t tag,
                    struct dp_loc src, struct dp_loc dst, uint32_t lo, uint32_t hi, double bytes)
{
    core_req_xfer(c, r, x, DP_X_KV, tag, src, dst, lo, hi, bytes);
    r->moves_pending++;
}

/* Move the request's KV into the DE's HBM: the prefill output and the
 * PE-path prefix from the PE over the compute network; the DE-path prefix
 * from the DE's own DRAM buffer over PCIe (it never left the DE). */
static void handoff_moves(struct dp_core *c, struct dp_engine *de, struct dp_request *r)
{
    uint32_t pe_blocks = dp_req_pe_blocks(r);
    double pe_bytes = (r->new_tokens + (double)pe_blocks * r->block_tokens) * r->kv_tok;
    struct dp_loc pe_hbm = { r->pe, DP_TIER_HBM }, de_hbm = { de->id, DP_TIER_HBM };
    kv_move(c, r, &r->mv[0], T_MV_PE, pe_hbm, de_hbm, 0, pe_blocks, pe_bytes);
    if (r->de_blocks)
        kv_move(c, r, &r->mv[1], T_MV_DE, (struct dp_loc){ de->id, DP_TIER_DRAM }, de_hbm,
                pe_blocks, r->cached_blocks, (double)r->de_blocks * r->block_tokens * r->kv_tok);
    if (core_move(c, &r->mv[0]))
        return;
    if (r->de_blocks)
        core_move(c, &r->mv[1]);
}

void core_admit_pump(struct dp_core *c, struct dp_engine *de)
{
    while (de->admit_q.n && !c->stopped) {
        struct dp_request *r = dp_fifo_peek(&de->admit_q);
        double need = ((double)r->input_tokens + r->output_tokens) * r->kv_tok;
        int empty = de->hbm_used == 0;
        if (!empty && de->hbm_used + need > de->hbm_cap)
            return;
        if (de->n_running + de->n_incoming >= c->sc->sched.decode_max_batch)
            return;
        dp_fifo_pop(&de->admit_q);
        r->hbm_de = need;
        de->hbm_used += need;
        de->n_incoming++;
        handoff_moves(c, de, r);
    }
}

static int running_add(struct dp_engine *de, struct dp_request *r)
{
    struct dp_request **run = dp_grow(de->running, &de->cap_running, de->n_running + 1,
                                      sizeof *run, 64);
    if (!run)
        return DP_ENOMEM;
    de->running = run;
    de->running[de->n_running++] = r;
    de->ctx_tokens += (uint64_t)r->input_tokens + r->tokens_out;
    return 0;
}

/* The last token is out: free HBM, record, write the new KV back. */
static void finish(struct dp_core *c, struct dp_engine *de, struct dp_request *r)
{
    de->hbm_used -= r->hbm_de;
    if (de->hbm_used < 1)
        de->hbm_used = 0;
    core_request_finished(c, r);
    core_write_back(c, r);
}

static void decode_try(struct dp_core *c, struct dp_engine *de)
{
    if (de->stepping || !de->n_running || c->stopped)
        return;
    const struct dp_model *m = &c->sc->model;
    struct dp_compute *k = &de->step;
    memset(k, 0, sizeof *k);
    k->kind = DP_C_DECODE_STEP;
    k->tag = T_DECODE;
    k->engine = de->id;
    k->batch = de->n_running;
    k->ctx_tokens = de->ctx_tokens;
    k->reqs = de->running;
    k->n_reqs = de->n_running;
    k->owner = de;
    de->stepping = 1;
    de->step_parts = 1;
    de->step_a2a_bytes = dp_a2a_layer_bytes(m, &de->hw, de->n_running) * m->n_layers;
    if (de->step_a2a_bytes > 0 && c->sc->traffic.overlap_a2a) {
        de->step_parts++;
        if (core_collective(c, &de->step_a2a, de, de->step_a2a_bytes, T_DECODE_A2A, de, 0,
                            m->n_layers))
            return;
    }
    core_compute(c, k);
}

static void join_running(struct dp_core *c, struct dp_engine *de, struct dp_request *r)
{
    de->n_incoming--;
    r->t_decode = core_now(c);
    r->state = DP_RS_DECODE;
    if (r->tokens_out >= r->output_tokens) {
        finish(c, de, r);
        core_admit_pump(c, de);
        return;
    }
    if (running_add(de, r)) {
        core_fail(c, DP_ENOMEM, "out of memory for the running set");
        return;
    }
    decode_try(c, de);
}

/* The PE's and the DE buffer's bytes are free once a move is over, whether
 * it landed or failed; a failed move fails the request at the handoff's end. */
void core_handoff_move_done(struct dp_core *c, struct dp_xfer *x)
{
    struct dp_request *r = x->req;
    if (x->status < 0)
        r->failed = 1;
    if (x->tag == T_MV_PE) {
        struct dp_engine *pe = core_engine(c, r->pe);
        pe->hbm_used -= r->hbm_pe;
        pe->dram_used -= r->dram_pe;
        if (pe->hbm_used < 1)
            pe->hbm_used = 0;
        if (pe->dram_used < 1)
            pe->dram_used = 0;
        r->hbm_pe = r->dram_pe = 0;
        core_read_pump(c, pe);
        core_prefill_try(c, pe);
    } else {
        struct dp_engine *de = core_engine(c, r->de);
        de->dram_used -= r->dram_de;
        if (de->dram_used < 1)
            de->dram_used = 0;
        r->dram_de = 0;
        core_read_pump(c, de);
    }
    if (--r->moves_pending)
        return;
    struct dp_engine *de = core_engine(c, r->de);
    if (r->failed) {
        de->n_incoming--;
        core_request_abort(c, r);
        return;
    }
    join_running(c, de, r);
}

/* A failed step fails every request in it: each leaves (HBM back, recorded
 * as failed, no write-back). */
static void step_failed(struct dp_core *c, struct dp_engine *de)
{
    uint32_t n = de->n_running;
    de->n_running = 0;
    de->ctx_tokens = 0;
    for (uint32_t i = 0; i < n; i++)
        core_request_abort(c, de->running[i]);
}

void core_decode_part_done(struct dp_core *c, struct dp_engine *de, int compute_part, int failed)
{
    de->step_failed |= failed;
    if (compute_part && !failed && de->step_a2a_bytes > 0 && !c->sc->traffic.overlap_a2a) {
        core_collective(c, &de->step_a2a, de, de->step_a2a_bytes, T_DECODE_A2A, de, 0,
                        c->sc->model.n_layers);
        return;
    }
    if (--de->step_parts)
        return;
    de->stepping = 0;
    de->steps++;
    if (de->step_failed) {
        de->step_failed = 0;
        step_failed(c, de);
        core_admit_pump(c, de);
        decode_try(c, de);
        return;
    }
    /* every running request produced one token; finished ones leave in order */
    uint32_t keep = 0;
    for (uint32_t i = 0; i < de->n_running; i++) {
        struct dp_request *r = de->running[i];
        r->tokens_out++;
        de->ctx_tokens++;
        if (r->tokens_out >= r->output_tokens) {
            de->ctx_tokens -= (uint64_t)r->input_tokens + r->tokens_out;
            finish(c, de, r);
        } else {
            de->running[keep++] = r;
        }
    }
    de->n_running = keep;
    core_admit_pump(c, de);
    decode_try(c, de);
}
