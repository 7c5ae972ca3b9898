/* Core lifecycle: engines, sessions and their turns, dispatch of
 * completions, metrics sampling. The request's path through storage,
 * prefill and decode lives in storage_io.c, prefill.c and decode.c. */
#include "core/core_impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

#define NS 1e9

void core_fail(struct dp_core *c, int code, const char *fmt, ...)
{
    if (c->error)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.msg, sizeof c->err.msg, fmt, ap);
    va_end(ap);
    c->error = code;
    c->stopped = 1;
}

int core_move(struct dp_core *c, struct dp_xfer *x)
{
    x->status = DP_STATUS_PENDING;
    x->t_issue = core_now(c);
    if (!c->sc->traffic.isolation)
        x->lane = DP_LANE_MODEL;   /* one lane: KV competes with collectives */
    x->busy = 1;
    c->in_op = 1;
    int rc = c->ops->move(c->plat, x);
    c->in_op = 0;
    if (rc) {
        x->busy = 0;
        core_fail(c, rc, "platform '%s' refused a transfer of %llu bytes (kind %u): %s",
                  c->ops->name, (unsigned long long)x->bytes, x->kind, dp_strerror(rc));
    } else {
        c->seam.moves++;
    }
    return rc;
}

int core_compute(struct dp_core *c, struct dp_compute *k)
{
    k->status = DP_STATUS_PENDING;
    k->busy = 1;
    c->in_op = 1;
    int rc = c->ops->compute(c->plat, k);
    c->in_op = 0;
    if (rc) {
        k->busy = 0;
        core_fail(c, rc, "platform '%s' refused a %s on engine %d: %s", c->ops->name,
                  k->kind == DP_C_PREFILL_LAYER ? "prefill compute" : "decode step", k->engine,
                  dp_strerror(rc));
    } else {
        c->seam.computes++;
    }
    return rc;
}

/* Rules 1-3 of platform.h at a completion: 0 when the completion may be
 * processed; else the run stops with the broken rule named. */
static int seam_completion(struct dp_core *c, uint8_t *busy, const int8_t *status,
                           const char *what)
{
    const char *broken = NULL;
    if (c->in_op)
        broken = "came from inside an op call (rule 2: schedule it, call back from the loop)";
    else if (!*busy)
        broken = "was not in flight (rule 1: completed twice, or never issued)";
    else if (status && *status > 0)
        broken = "carries no status (rule 3: set 0 or a negative DP_E* code first)";
    if (broken) {
        core_fail(c, DP_ESTATE, "platform '%s' broke the seam's rules: a %s completion %s",
                  c->ops->name, what, broken);
        return -1;
    }
    *busy = 0;
    return 0;
}

static void release_nop(void *plat, struct dp_request *r)
{
    (void)plat;
    (void)r;
}

/* The platform's table, with the optional ops defaulted. */
static int take_ops(struct dp_core *c, const struct dp_platform_ops *ops, struct dp_err *err)
{
    const char *missing = !ops ? "the table" : !ops->now ? "now" : !ops->move ? "move"
                        : !ops->compute ? "compute" : !ops->timer ? "timer"
                        : !ops->counters ? "counters" : NULL;
    if (missing)
        return dp_err_set(err, DP_EINVAL, "platform '%s' lacks %s (core/platform.h)",
                          ops && ops->name ? ops->name : "?", missing);
    c->ops_tab = *ops;
    if (!c->ops_tab.name)
        c->ops_tab.name = "?";
    if (!c->ops_tab.release)
        c->ops_tab.release = release_nop;
    c->ops = &c->ops_tab;
    return 0;
}

int core_collective(struct dp_core *c, struct dp_xfer *x, const struct dp_engine *e, double bytes,
                    uint16_t tag, void *owner, uint32_t layer_lo, uint32_t layer_hi)
{
    memset(x, 0, sizeof *x);
    x->kind = DP_X_COLLECTIVE;
    x->lane = DP_LANE_MODEL;
    x->tag = tag;
    x->src = x->dst = (struct dp_loc){ e->id, DP_TIER_HBM };
    x->bytes = (uint64_t)bytes;
    x->layer_lo = layer_lo;
    x->layer_hi = layer_hi;
    x->owner = owner;
    return core_move(c, x);
}

static double kv_capacity(const struct dp_engine_hw *hw, const struct dp_model *m)
{
    /* HBM left for KV after the weights and a 10% activation/workspace reserve */
    double room = hw->hbm_bytes * 0.9 - dp_weight_bytes_per_gpu(m, 1);
    return room > 0 ? room : 0;
}

static void engine_init(struct dp_core *c, struct dp_engine *e, int32_t id, uint8_t role)
{
    const struct dp_scenario *sc = c->sc;
    uint32_t gpus = role == DP_ROLE_PREFILL ? sc->cluster.prefill_gpus : sc->cluster.decode_gpus;
    e->id = id;
    e->role = role;
    dp_engine_hw_from(&e->hw, &sc->hw, gpus);
    e->dram_cap = e->hw.dram_bytes;
    e->hbm_cap = kv_capacity(&e->hw, &sc->model);
}

static int create_engines(struct dp_core *c, struct dp_err *err)
{
    c->n_pe = c->sc->cluster.prefill_engines;
    c->n_de = c->sc->cluster.decode_engines;
    c->engines = calloc(c->n_pe + c->n_de, sizeof *c->engines);
    if (!c->engines)
        return dp_err_set(err, DP_ENOMEM, "out of memory for %u engines", c->n_pe + c->n_de);
    for (uint32_t i = 0; i < c->n_pe; i++)
        engine_init(c, core_pe(c, i), (int32_t)i, DP_ROLE_PREFILL);
    for (uint32_t i = 0; i < c->n_de; i++)
        engine_init(c, core_de(c, i), (int32_t)(c->n_pe + i), DP_ROLE_DECODE);
    if (core_de(c, 0)->hbm_cap <= 0)
        return dp_err_set(err, DP_ERANGE,
                          "%s: field 'cluster.decode_gpus': no HBM left for KV after the weights",
                          c->sc->file);
    return 0;
}

int dp_core_create(struct dp_core **out, const struct dp_scenario *sc,
                   const struct dp_workload *w, const struct dp_platform_ops *ops, void *plat,
                   struct dp_err *err)
{
    struct dp_core *c = calloc(1, sizeof *c);
    if (!c)
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    c->sc = sc;
    c->w = w;
    c->plat = plat;
    c->kv_tok = dp_kv_bytes_per_token(&sc->model);
    c->kv_tok_layer = dp_kv_bytes_per_token_layer(&sc->model);
    int rc = take_ops(c, ops, err);
    if (!rc && dp_kvindex_init(&c->index))
        rc = dp_err_set(err, DP_ENOMEM, "out of memory for the KV block index");
    if (!rc)
        rc = create_engines(c, err);
    if (rc)
        goto fail;
    c->policy = dp_policy_find(sc->policy.name);
    if (!c->policy) {
        rc = dp_policy_check(sc->policy.name, sc->file, err);
        goto fail;
    }
    c->view = (struct dp_cluster_view){ sc, core_pe(c, 0), c->n_pe, core_de(c, 0), c->n_de,
                                        c->kv_tok, 0, 0 };
    if (c->policy->init && (rc = c->policy->init(&c->view, &c->policy_state, err)))
        goto fail;
    c->sess = calloc(w->n_sessions ? w->n_sessions : 1, sizeof *c->sess);
    c->last_ctr = calloc(c->n_pe + c->n_de, sizeof *c->last_ctr);
    if (!c->sess || !c->last_ctr || dp_metrics_init(&c->metrics, c->n_pe + c->n_de)) {
        rc = dp_err_set(err, DP_ENOMEM, "out of memory for %zu sessions", w->n_sessions);
        goto fail;
    }
    c->total_requests = dp_workload_total_turns(w);
    c->metrics.sessions_total = w->n_sessions;
    if ((rc = core_dag_init(c, err)))
        goto fail;
    *out = c;
    return 0;
fail:
    dp_core_destroy(c);
    return rc;
}

void dp_core_destroy(struct dp_core *c)
{
    if (!c)
        return;
    if (c->policy && c->policy->fini)
        c->policy->fini(c->policy_state);
    for (uint32_t i = 0; c->engines && i < c->n_pe + c->n_de; i++) {
        struct dp_engine *e = &c->engines[i];
        dp_fifo_free(&e->read_q);
        dp_fifo_free(&e->ready_q);
        dp_fifo_free(&e->admit_q);
        free(e->running);
        core_prefill_free(e);
    }
    /* live requests too: a run stopped by max_time_s or a signal has some;
     * the platform hears of their end first (platform.h, rule 4) */
    for (size_t i = 0; i < c->n_all_reqs; i++) {
        if (c->all_reqs[i]->state != DP_RS_FREE && c->ops)
            c->ops->release(c->plat, c->all_reqs[i]);
        free(c->all_reqs[i]);
    }
    free(c->all_reqs);
    free(c->engines);
    free(c->sess);
    core_dag_free(c);
    free(c->last_ctr);
    dp_kvindex_free(&c->index);
    dp_metrics_free(&c->metrics);
    free(c);
}

/* ns from a double, saturating (a huge run.sample_interval_s must not
 * overflow the cast). */
static dp_time_t ns_sat(double ns)
{
    return ns >= 1.8e19 ? UINT64_MAX : ns > 0 ? (dp_time_t)ns : 0;
}

static dp_time_t time_add(dp_time_t a, dp_time_t b)
{
    return core_time_add(a, b);
}

void core_arm_timer(struct dp_core *c, struct dp_timer *t, uint32_t kind, void *owner,
                    dp_time_t at)
{
    t->at = at;
    t->kind = kind;
    t->owner = owner;
    t->busy = 1;
    c->in_op = 1;
    int rc = c->ops->timer(c->plat, t);
    c->in_op = 0;
    if (rc) {
        t->busy = 0;
        core_fail(c, rc, "platform '%s' refused a timer", c->ops->name);
    } else {
        c->seam.timers++;
    }
}

/* Arrival times come scaled in the workload (workload.time_scale and
 * workload.rate are applied when it is built); think times are the agent's
 * own and are never scaled. */
int dp_core_start(struct dp_core *c)
{
    for (size_t i = 0; i < c->w->n_sessions; i++) {
        const struct dp_session *s = &c->w->sessions[i];
        if (!s->n_turns) {
            c->sessions_done++;
            continue;
        }
        if (s->links)
            core_dag_start(c, (uint32_t)i);
        else
            core_arm_timer(c, &c->sess[i].timer, TM_TURN, &c->sess[i], s->start_ns);
    }
    core_arm_timer(c, &c->sample_timer, TM_SAMPLE, NULL, 0);
    if (c->sc->run.max_time_s > 0)
        core_arm_timer(c, &c->stop_timer, TM_STOP, NULL, (dp_time_t)(c->sc->run.max_time_s * NS));
    return c->error;
}

/* ---- requests ---------------------------------------------------- */

static struct dp_request *request_alloc(struct dp_core *c)
{
    struct dp_request *r = c->free_reqs;
    if (r) {
        c->free_reqs = r->next_free;
    } else {
        struct dp_request **all = dp_grow(c->all_reqs, &c->cap_all_reqs, c->n_all_reqs + 1,
                                          sizeof *all, 256);
        if (!all)
            return NULL;
        c->all_reqs = all;
        if (!(r = malloc(sizeof *r)))
            return NULL;
        c->all_reqs[c->n_all_reqs++] = r;
    }
    memset(r, 0, sizeof *r);
    c->live++;
    return r;
}

void core_request_release(struct dp_core *c, struct dp_request *r)
{
    c->in_op = 1;
    c->ops->release(c->plat, r);
    c->in_op = 0;
    c->seam.releases++;
    r->state = DP_RS_FREE;
    r->next_free = c->free_reqs;
    c->free_reqs = r;
    c->live--;
}

/* Give back bytes a request holds in one of an engine's memories. */
static void give_back(double *used, double *held)
{
    *used -= *held;
    if (*used < 1)
        *used = 0;
    *held = 0;
}

void core_request_abort(struct dp_core *c, struct dp_request *r)
{
    struct dp_engine *pe = core_engine(c, r->pe), *de = core_engine(c, r->de);
    if (r->state == DP_RS_READING)   /* not yet taken into a batch */
        pe->pending_tokens -= r->new_tokens;
    give_back(&pe->hbm_used, &r->hbm_pe);
    give_back(&pe->dram_used, &r->dram_pe);
    give_back(&de->dram_used, &r->dram_de);
    give_back(&de->hbm_used, &r->hbm_de);
    r->failed = 1;
    r->state = DP_RS_FAILED;
    core_request_finished(c, r);
    core_request_release(c, r);
    /* the room it held may let others in */
    core_read_pump(c, pe);
    core_read_pump(c, de);
    core_prefill_try(c, pe);
    core_admit_pump(c, de);
}

/* Block key of an agent session's block i: unique per (session, block). */
static inline uint64_t session_block_key(uint64_t sess, uint32_t i)
{
    return (sess + 1) << 24 ^ (uint64_t)i;
}

/* How much of this turn's prefix storage already holds, in whole blocks.
 * At least one token is always computed (the model must produce logits). */
static uint32_t cached_blocks_of(struct dp_core *c, uint32_t si, const struct dp_turn *t,
                                 uint32_t input, uint32_t bt)
{
    uint32_t max_blocks = (input - 1) / bt;
    uint32_t hit;
    if (t->hash_ids)
        hit = dp_kvindex_match(&c->index, t->hash_ids, t->n_hash);
    else
        hit = (uint32_t)(c->sess[si].stored_tokens / bt);
    return hit < max_blocks ? hit : max_blocks;
}

static void request_route(struct dp_core *c, struct dp_request *r)
{
    struct dp_route rt = { 0, 0, 0 };
    c->view.now = core_now(c);
    c->view.seq = r->id;
    c->policy->route(c->policy_state, &c->view, r, &rt);
    if (rt.pe < 0 || (uint32_t)rt.pe >= c->n_pe || rt.de < 0 || (uint32_t)rt.de >= c->n_de ||
        rt.de_blocks > r->cached_blocks) {
        core_fail(c, DP_ESTATE, "policy '%s' returned an invalid route (pe %d, de %d, de_blocks %u of %u)",
                  c->policy->name, rt.pe, rt.de, rt.de_blocks, r->cached_blocks);
        rt = (struct dp_route){ 0, 0, 0 };
    }
    r->pe = rt.pe;
    r->de = (int32_t)c->n_pe + rt.de;
    r->de_blocks = rt.de_blocks;
}

void core_req_xfer(struct dp_core *c, struct dp_request *r, struct dp_xfer *x, uint8_t kind,
                   uint16_t tag, struct dp_loc src, struct dp_loc dst, uint32_t lo, uint32_t hi,
                   double bytes)
{
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->lane = DP_LANE_KV;
    x->tag = tag;
    x->src = src;
    x->dst = dst;
    x->bytes = (uint64_t)bytes;
    x->req = r;
    x->block_lo = lo;
    x->block_hi = hi;
    x->layer_lo = 0;
    x->layer_hi = c->sc->model.n_layers;
    x->owner = r;
}

static double blocks_bytes(const struct dp_request *r, uint32_t lo, uint32_t hi)
{
    return (double)(hi - lo) * r->block_tokens * r->kv_tok;
}

/* A storage read of blocks [lo, hi) into an engine's DRAM buffer. */
static void read_desc(struct dp_core *c, struct dp_request *r, struct dp_xfer *x, uint16_t tag,
                      int32_t engine, uint32_t lo, uint32_t hi)
{
    core_req_xfer(c, r, x, DP_X_STORAGE_READ, tag, (struct dp_loc){ -1, DP_TIER_STORAGE },
                  (struct dp_loc){ engine, DP_TIER_DRAM }, lo, hi, blocks_bytes(r, lo, hi));
}

/* Issue turn k of session si. */
void core_issue_turn(struct dp_core *c, uint32_t si, uint32_t k)
{
    const struct dp_session *s = &c->w->sessions[si];
    struct dp_sess_state *st = &c->sess[si];
    const struct dp_turn *t = &s->turns[k];
    struct dp_request *r = request_alloc(c);
    if (!r) {
        core_fail(c, DP_ENOMEM, "out of memory for requests");
        return;
    }
    uint32_t bt = t->hash_ids || s->open_loop ? c->w->block_tokens : c->sc->workload.block_tokens;
    /* A turn that records its whole prompt (traces) sends that; an agent
     * session's turn sends the context so far plus its append. */
    uint64_t input = t->input_tokens ? t->input_tokens : st->ctx_tokens + t->append_tokens;
    if (input < 1)
        input = 1;
    if (input > UINT32_MAX)
        input = UINT32_MAX;
    r->id = c->next_req_id++;
    r->sess = si;
    r->turn = k;
    r->block_tokens = bt;
    r->input_tokens = (uint32_t)input;
    r->output_tokens = t->output_tokens;
    r->kv_tok = c->kv_tok;
    r->cached_blocks = cached_blocks_of(c, si, t, r->input_tokens, bt);
    r->new_tokens = r->input_tokens - (uint32_t)dp_req_cached_tokens(r);
    r->t_issue = core_now(c);
    c->issued++;
    c->seam.requests++;
    st->ctx_tokens = input;
    request_route(c, r);

    struct dp_engine *pe = core_engine(c, r->pe);
    pe->pending_tokens += r->new_tokens;
    r->state = DP_RS_READING;
    if (c->policy->storage_unlimited || r->cached_blocks == 0) {
        /* Oracle: the KV is in the PE's DRAM at once (nothing to read). */
        r->de_blocks = 0;
        core_prefill_ready(c, r);
        return;
    }
    uint32_t pe_blocks = dp_req_pe_blocks(r);
    if (pe_blocks) {
        read_desc(c, r, &r->rd[0], T_READ_PE, r->pe, 0, pe_blocks);
        r->reads_pending++;
    }
    if (r->de_blocks) {
        read_desc(c, r, &r->rd[1], T_READ_DE, r->de, pe_blocks, r->cached_blocks);
        r->reads_pending++;
    }
    if (pe_blocks)
        core_read_enqueue(c, pe, &r->rd[0]);
    if (r->de_blocks)
        core_read_enqueue(c, core_engine(c, r->de), &r->rd[1]);
}

static double sec(dp_time_t t) { return (double)t / NS; }

/* The last token is out: record, schedule the session's next turn. */
void core_request_finished(struct dp_core *c, struct dp_request *r)
{
    const struct dp_session *s = &c->w->sessions[r->sess];
    struct dp_sess_state *st = &c->sess[r->sess];
    dp_time_t now = core_now(c);
    r->t_done = now;
    int last = st->next_turn + 1 >= s->n_turns || r->failed;
    struct dp_req_rec rec = {
        .id = r->id, .session = s->id, .turn = r->turn, .pe = r->pe, .de = r->de,
        .input_tokens = r->input_tokens, .cached_tokens = (uint32_t)dp_req_cached_tokens(r),
        .de_cached_tokens = r->de_blocks * r->block_tokens, .new_tokens = r->new_tokens,
        .output_tokens = r->output_tokens, .failed = r->failed, .session_end = (uint32_t)last,
        .t_issue = sec(r->t_issue), .t_ready = sec(r->t_ready), .t_prefill = sec(r->t_prefill),
        .t_first = sec(r->t_first), .t_decode = sec(r->t_decode), .t_done = sec(now),
    };
    rec.ttft = rec.t_first - rec.t_issue;
    rec.tpot = r->output_tokens > 1 ? (rec.t_done - rec.t_first) / (r->output_tokens - 1) : 0;
    r->rec = c->metrics.n_recs;
    if (dp_metrics_add(&c->metrics, &rec)) {
        core_fail(c, DP_ENOMEM, "out of memory for request records");
        r->rec = UINT64_MAX;
    }
    if (r->failed)
        c->metrics.failed++;
    c->finished++;
    if (s->links) {
        core_dag_finished(c, r);
        return;
    }

    st->ctx_tokens = (uint64_t)r->input_tokens + r->output_tokens;
    st->next_turn++;
    if (!last) {
        uint64_t think = s->turns[st->next_turn].think_ns;
        if (s->open_loop)
            think = 0;
        core_arm_timer(c, &st->timer, TM_TURN, st, time_add(now, think));
    } else {
        c->sessions_done++;
    }
}

/* ---- metrics sampling ---------------------------------------------- */

static void sample(struct dp_core *c)
{
    dp_time_t now = core_now(c);
    double dt = sec(now - c->last_sample);
    size_t row;
    if (dp_metrics_sample(&c->metrics, sec(now), &row)) {
        core_fail(c, DP_ENOMEM, "out of memory for time series");
        return;
    }
    uint32_t ne = c->n_pe + c->n_de;
    for (uint32_t i = 0; i < ne; i++) {
        struct dp_engine *e = &c->engines[i];
        struct dp_link_counters k, *l = &c->last_ctr[i];
        c->ops->counters(c->plat, e->id, &k);
        double *S[DP_S_N];
        for (int s = 0; s < DP_S_N; s++)
            S[s] = &c->metrics.series[s][row * ne + i];
        *S[DP_S_SNIC_RX] = dt > 0 ? (k.snic_rx - l->snic_rx) / (e->hw.snic_bw * dt) : 0;
        *S[DP_S_SNIC_TX] = dt > 0 ? (k.snic_tx - l->snic_tx) / (e->hw.snic_bw * dt) : 0;
        *S[DP_S_CNIC_RX] = dt > 0 ? (k.cnic_rx - l->cnic_rx) / (e->hw.cnic_bw * dt) : 0;
        *S[DP_S_CNIC_TX] = dt > 0 ? (k.cnic_tx - l->cnic_tx) / (e->hw.cnic_bw * dt) : 0;
        *S[DP_S_PCIE_H2D] = dt > 0 ? (k.pcie_h2d - l->pcie_h2d) / (e->hw.pcie_bw * dt) : 0;
        *S[DP_S_READ_Q] = e->read_q_bytes;
        *S[DP_S_PENDING] = e->role == DP_ROLE_PREFILL ? (double)e->pending_tokens : e->n_running;
        *S[DP_S_HBM] = e->hbm_used;
        *S[DP_S_DRAM] = e->dram_used;
        *l = k;
        c->metrics.bytes[DP_S_SNIC_RX][i] = k.snic_rx;
        c->metrics.bytes[DP_S_SNIC_TX][i] = k.snic_tx;
        c->metrics.bytes[DP_S_CNIC_RX][i] = k.cnic_rx;
        c->metrics.bytes[DP_S_CNIC_TX][i] = k.cnic_tx;
        c->metrics.bytes[DP_S_PCIE_H2D][i] = k.pcie_h2d;
    }
    c->last_sample = now;
    c->metrics.end_s = sec(now);
}

void dp_core_on_timer(struct dp_core *c, struct dp_timer *t)
{
    if (seam_completion(c, &t->busy, NULL, "timer"))
        return;
    c->seam.timers_done++;
    if (c->stopped)
        return;
    switch (t->kind) {
    case TM_TURN: {
        uint32_t si = (uint32_t)((struct dp_sess_state *)t->owner - c->sess);
        core_issue_turn(c, si, c->sess[si].next_turn);
        break;
    }
    case TM_DAG:
        core_dag_on_timer(c, t->owner);
        break;
    case TM_SAMPLE:
        sample(c);
        if (!dp_core_done(c))
            core_arm_timer(c, &c->sample_timer, TM_SAMPLE, NULL,
                      time_add(core_now(c), ns_sat(c->sc->run.sample_interval_s * NS)));
        break;
    case TM_STOP:
        sample(c);
        c->stopped = 1;
        break;
    }
}

/* A collective ran alone in its lane iff it took bytes / compute-NIC
 * bandwidth: the stretch over that is what KV traffic cost the model. */
static void collective_done(struct dp_core *c, const struct dp_xfer *x)
{
    const struct dp_engine *e = core_engine(c, x->src.engine);
    double ideal = (double)x->bytes / e->hw.cnic_bw;
    double actual = (double)(core_now(c) - x->t_issue) / NS;
    struct dp_metrics *m = &c->metrics;
    m->a2a_n++;
    m->a2a_ideal_s += ideal;
    m->a2a_actual_s += actual;
    if (ideal > 0 && actual / ideal > m->a2a_max_stretch)
        m->a2a_max_stretch = actual / ideal;
}

void dp_core_on_transfer_done(struct dp_core *c, struct dp_xfer *x)
{
    if (seam_completion(c, &x->busy, &x->status, "transfer"))
        return;
    c->seam.moves_done++;
    c->seam.moves_failed += x->status < 0;
    if (c->stopped && c->error)
        return;
    if (x->kind == DP_X_COLLECTIVE)
        collective_done(c, x);
    switch (x->tag) {
    case T_READ_PE:
    case T_READ_DE: core_read_done(c, x); break;
    case T_LAYER_LOAD: core_prefill_load_done(c, x); break;
    case T_PREFILL_A2A:
        if (x->status < 0)
            core_prefill_fail(c, x->owner);
        core_prefill_part_done(c, x->owner, 0);
        break;
    case T_MV_PE:
    case T_MV_DE: core_handoff_move_done(c, x); break;
    case T_DECODE_A2A:
        core_decode_part_done(c, x->owner, 0, x->status < 0);
        break;
    case T_WRITE: core_write_done(c, x); break;
    default: core_fail(c, DP_ESTATE, "transfer completion with unknown tag %u", x->tag);
    }
    if (dp_core_done(c) && !c->stopped) {
        sample(c);
        c->stopped = 1;
    }
}

void dp_core_on_compute_done(struct dp_core *c, struct dp_compute *k)
{
    if (seam_completion(c, &k->busy, &k->status, "compute"))
        return;
    c->seam.computes_done++;
    c->seam.computes_failed += k->status < 0;
    if (c->stopped && c->error)
        return;
    if (k->tag == T_PREFILL) {
        if (k->status < 0)
            core_prefill_fail(c, k->owner);
        core_prefill_part_done(c, k->owner, 1);
    } else if (k->tag == T_DECODE) {
        core_decode_part_done(c, k->owner, 1, k->status < 0);
    } else
        core_fail(c, DP_ESTATE, "compute completion with unknown tag %u", k->tag);
    if (dp_core_done(c) && !c->stopped) {
        sample(c);
        c->stopped = 1;
    }
}

void dp_core_stop(struct dp_core *c)
{
    if (c->stopped)
        return;
    sample(c);
    c->stopped = 1;
}

int dp_core_done(const struct dp_core *c)
{
    if (c->stopped)
        return 1;
    /* every session ended and every write-back landed */
    return c->sessions_done == c->w->n_sessions && c->live == 0;
}

uint64_t dp_core_requests_done(const struct dp_core *c) { return c->finished; }
uint64_t dp_core_requests_total(const struct dp_core *c) { return c->total_requests; }
struct dp_metrics *dp_core_metrics(struct dp_core *c) { return &c->metrics; }

const struct dp_engine *dp_core_engines(const struct dp_core *c, uint32_t *n)
{
    *n = c->n_pe + c->n_de;
    return c->engines;
}

void dp_core_seam_stats(const struct dp_core *c, struct dp_seam_stats *s)
{
    *s = c->seam;
}

int dp_core_error(const struct dp_core *c, struct dp_err *err)
{
    if (c->error && err)
        *err = c->err;
    return c->error;
}
