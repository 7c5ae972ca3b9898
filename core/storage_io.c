/* Storage reads into the engines' DRAM buffers (the "read tasks" the
 * scheduler queues per engine), and write-back of new KV after decode.
 *
 * A failed read is retried once over the other engine's storage NIC (the
 * path the scheduler did not choose): the request's cached blocks then all
 * sit on that side. A second failure fails the request when its reads are
 * over. A failed write-back has no other path: the request counts as
 * failed (its answer was delivered, its new KV is not in storage, so its
 * session's next turn computes those tokens again). */
#include "core/core_impl.h"

void core_read_enqueue(struct dp_core *c, struct dp_engine *e, struct dp_xfer *x)
{
    if (dp_fifo_push(&e->read_q, x)) {
        core_fail(c, DP_ENOMEM, "out of memory for the read queue");
        return;
    }
    e->read_q_bytes += (double)x->bytes;
    core_read_pump(c, e);
}

/* Issue queued reads in order while the engine has read slots and DRAM
 * room for the head of the queue. A read larger than the whole buffer is
 * let through when the buffer is empty, so nothing waits forever; it is
 * the scenario's problem and shows as DRAM use above capacity. */
void core_read_pump(struct dp_core *c, struct dp_engine *e)
{
    while (e->read_q.n && e->reads_inflight < c->sc->sched.max_inflight_reads) {
        struct dp_xfer *x = dp_fifo_peek(&e->read_q);
        double b = (double)x->bytes;
        if (e->dram_used + b > e->dram_cap && e->dram_used > 0)
            return;
        dp_fifo_pop(&e->read_q);
        e->dram_used += b;
        e->reads_inflight++;
        struct dp_request *r = x->req;
        if (x->dst.engine == r->pe)
            r->dram_pe += b;
        else
            r->dram_de += b;
        if (core_move(c, x))
            return;
    }
}

/* A read failed: its DRAM goes back; retried over the other engine (1), or
 * the request is marked failed (0). */
static int read_failed(struct dp_core *c, struct dp_request *r, struct dp_xfer *x,
                       struct dp_engine *e)
{
    int on_pe = x->dst.engine == r->pe;
    double b = (double)x->bytes;
    e->dram_used -= b;
    if (e->dram_used < 1)
        e->dram_used = 0;
    *(on_pe ? &r->dram_pe : &r->dram_de) -= b;
    if (r->retries || c->stopped) {
        r->failed = 1;
        return 0;
    }
    r->retries++;
    c->metrics.retried++;
    /* PE blocks are [0, pe_blocks), DE blocks the rest: moving one side's
     * range to the other leaves every cached block on that other side */
    r->de_blocks = on_pe ? r->cached_blocks : 0;
    int32_t other = on_pe ? r->de : r->pe;
    core_req_xfer(c, r, x, DP_X_STORAGE_READ, x->tag, (struct dp_loc){ -1, DP_TIER_STORAGE },
                  (struct dp_loc){ other, DP_TIER_DRAM }, x->block_lo, x->block_hi, b);
    core_read_enqueue(c, core_engine(c, other), x);
    return 1;
}

void core_read_done(struct dp_core *c, struct dp_xfer *x)
{
    struct dp_request *r = x->req;
    struct dp_engine *e = core_engine(c, x->dst.engine);
    e->reads_inflight--;
    e->read_q_bytes -= (double)x->bytes;
    if (e->read_q_bytes < 0.5)
        e->read_q_bytes = 0;
    if (x->status < 0 && read_failed(c, r, x, e)) {
        core_read_pump(c, e);
        return;
    }
    if (--r->reads_pending == 0) {
        if (r->failed)
            core_request_abort(c, r);
        else
            core_prefill_ready(c, r);
    }
    core_read_pump(c, e);
}

/* Whole blocks of this turn's context that storage will hold afterwards. */
static uint32_t blocks_after(const struct dp_request *r)
{
    uint64_t tokens = (uint64_t)r->input_tokens + r->output_tokens;
    return (uint32_t)(tokens / r->block_tokens);
}

void core_write_back(struct dp_core *c, struct dp_request *r)
{
    uint32_t hi = blocks_after(r);
    uint32_t lo = r->cached_blocks;
    /* Open-loop requests name their blocks by hash id: only input blocks
     * can be matched later, so only those are worth writing. */
    const struct dp_turn *t = &c->w->sessions[r->sess].turns[r->turn];
    if (t->hash_ids && hi > t->n_hash)
        hi = t->n_hash;
    struct dp_xfer *x = &r->wr;
    r->state = DP_RS_WRITEBACK;
    x->req = r;
    if (hi <= lo) {
        core_write_done(c, x);
        return;
    }
    core_req_xfer(c, r, x, DP_X_STORAGE_WRITE, T_WRITE, (struct dp_loc){ r->de, DP_TIER_HBM },
                  (struct dp_loc){ -1, DP_TIER_STORAGE }, lo, hi,
                  (double)(hi - lo) * r->block_tokens * r->kv_tok);
    core_move(c, x);
}

/* The new blocks are in storage: later turns and requests can reuse them. */
void core_write_done(struct dp_core *c, struct dp_xfer *x)
{
    struct dp_request *r = x->req;
    const struct dp_session *s = &c->w->sessions[r->sess];
    const struct dp_turn *t = &s->turns[r->turn];
    if (x->status < 0) {
        if (r->rec < c->metrics.n_recs)
            c->metrics.recs[r->rec].failed = 1;
        c->metrics.failed++;
    } else if (t->hash_ids) {
        uint32_t n = blocks_after(r) < t->n_hash ? blocks_after(r) : t->n_hash;
        for (uint32_t i = 0; i < n; i++)
            if (dp_kvindex_insert(&c->index, t->hash_ids[i]))
                core_fail(c, DP_ENOMEM, "out of memory for the KV index");
    } else {
        uint64_t stored = (uint64_t)blocks_after(r) * r->block_tokens;
        if (stored > c->sess[r->sess].stored_tokens)
            c->sess[r->sess].stored_tokens = stored;
    }
    core_request_release(c, r);
}
