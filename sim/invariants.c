/* Invariants of a simulated run (see invariants.h for what and why). */
#include "sim/invariants.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "sim/simplat.h"

/* Relative slack for floating-point sums of shares and bytes. */
#define REL 1e-9

int dp_inv_wanted(void)
{
    const char *e = getenv("DUALPATH_CHECK");
    if (e && *e)
        return strcmp(e, "0") != 0;
#ifdef NDEBUG
    return 0;
#else
    return 1;
#endif
}

static int violation(struct dp_inv *iv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int violation(struct dp_inv *iv, const char *fmt, ...)
{
    if (!iv->violations++) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(iv->first, sizeof iv->first, fmt, ap);
        va_end(ap);
    }
    return 1;
}

static double sec(uint64_t ns) { return (double)ns / 1e9; }

/* The largest KV footprint one request of w can have: its whole context
 * and output, as core computes a turn's input (core.c issue_turn). */
static double max_request_tokens(const struct dp_workload *w)
{
    double best = 0;
    for (size_t i = 0; w && i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        uint64_t ctx = 0;
        for (uint32_t k = 0; k < s->n_turns; k++) {
            const struct dp_turn *t = &s->turns[k];
            uint64_t input = t->input_tokens ? t->input_tokens : ctx + t->append_tokens;
            if (input < 1)
                input = 1;
            if (input > UINT32_MAX)
                input = UINT32_MAX;
            double need = (double)input + t->output_tokens;
            if (need > best)
                best = need;
            ctx = input + t->output_tokens;
        }
    }
    return best;
}

int dp_inv_init(struct dp_inv *iv, const struct dp_workload *w, double kv_tok)
{
    memset(iv, 0, sizeof *iv);
    iv->kv_tok = kv_tok;
    iv->max_req_bytes = max_request_tokens(w) * kv_tok;
    return 0;
}

void dp_inv_free(struct dp_inv *iv)
{
    free(iv->link_bytes);
    memset(iv, 0, sizeof *iv);
}

int dp_inv_error(const struct dp_inv *iv, struct dp_err *err)
{
    return dp_err_set(err, DP_ESTATE, "invariant violated: %.440s (%llu violation%s)", iv->first,
                      (unsigned long long)iv->violations, iv->violations == 1 ? "" : "s");
}

/* ---- time ------------------------------------------------------------ */

int dp_inv_time(struct dp_inv *iv, uint64_t t)
{
    iv->events++;
    int bad = 0;
    if (t < iv->last_t)
        bad = violation(iv, "time went back: an event at t=%.9f s after one at t=%.9f s",
                        sec(t), sec(iv->last_t));
    else
        iv->last_t = t;
    return bad;
}

/* ---- links ----------------------------------------------------------- */

int dp_inv_links(struct dp_inv *iv, const struct dp_net *net, uint64_t now)
{
    int bad = 0;
    iv->link_checks++;
    if (iv->n_links != net->n_links) {
        /* links appeared (first check, or added mid-run): start their windows */
        double *b = realloc(iv->link_bytes, (net->n_links ? net->n_links : 1) * sizeof *b);
        if (!b)
            return 0;   /* no memory for the window check: skip it, not a violation */
        for (uint32_t i = iv->n_links; i < net->n_links; i++)
            b[i] = dp_link_bytes((struct dp_net *)net, i, iv->link_t);
        iv->link_bytes = b;
        iv->n_links = net->n_links;
    }
    double dt = sec(now - iv->link_t);
    if (now < iv->link_t)
        bad |= violation(iv, "links checked at t=%.9f s after t=%.9f s", sec(now),
                         sec(iv->link_t));
    for (uint32_t i = 0; i < net->n_links; i++) {
        const struct dp_link *l = &net->links[i];
        if (!(l->rate >= 0) || l->rate > l->bw * (1 + REL))
            bad |= violation(iv, "link %s at t=%.9f s: rate %.6g B/s exceeds its bandwidth %.6g B/s",
                             l->name, sec(now), l->rate, l->bw);
        double bytes = dp_link_bytes((struct dp_net *)net, i, now);
        double moved = bytes - iv->link_bytes[i];
        /* a flow ends up to 1 ns late (completions round up), at most bw x 1 ns */
        double room = l->bw * (dt + 2e-9) * (1 + REL) + 1e-6 + REL * bytes;
        if (moved > room || moved < -(1e-6 + REL * bytes))
            bad |= violation(iv, "link %s carried %.6g B in %.9f s up to t=%.9f s: more than "
                             "its bandwidth %.6g B/s allows (or went back)",
                             l->name, moved, dt, sec(now), l->bw);
        iv->link_bytes[i] = bytes;
    }
    iv->link_t = now;
    return bad;
}

/* ---- engines --------------------------------------------------------- */

static int mem_ok(double used, double cap, double single_max, int sole)
{
    if (!(used >= 0))
        return 0;
    if (used <= cap * (1 + REL) + 1)
        return 1;
    /* above capacity: only one request, alone on an engine that was empty */
    return sole && used <= single_max * (1 + REL) + 1;
}

int dp_inv_engines(struct dp_inv *iv, const struct dp_engine *e, uint32_t n, uint64_t now)
{
    int bad = 0;
    iv->engine_checks++;
    for (uint32_t i = 0; i < n; i++) {
        const struct dp_engine *x = &e[i];
        const char *role = x->role == DP_ROLE_PREFILL ? "prefill" : "decode";
        /* decode HBM: the occupants are countable (running + moving in) */
        int hbm_sole = x->role == DP_ROLE_DECODE ? x->n_running + x->n_incoming == 1 : 1;
        if (!mem_ok(x->hbm_used, x->hbm_cap, iv->max_req_bytes, hbm_sole))
            bad |= violation(iv, "%s engine %d at t=%.9f s: HBM use %.6g B above its capacity "
                             "%.6g B (%u running, %u moving in; largest request %.6g B)",
                             role, x->id, sec(now), x->hbm_used, x->hbm_cap, x->n_running,
                             x->n_incoming, iv->max_req_bytes);
        if (!mem_ok(x->dram_used, x->dram_cap, iv->max_req_bytes, 1))
            bad |= violation(iv, "%s engine %d at t=%.9f s: DRAM use %.6g B above its capacity "
                             "%.6g B (largest request %.6g B)",
                             role, x->id, sec(now), x->dram_used, x->dram_cap, iv->max_req_bytes);
        if (!(x->read_q_bytes >= 0))
            bad |= violation(iv, "%s engine %d at t=%.9f s: read queue of %.6g B", role, x->id,
                             sec(now), x->read_q_bytes);
    }
    return bad;
}

/* ---- end of run ------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct sess_turn {
    uint64_t session;
    uint32_t turn;
};

static int cmp_sess_turn(const void *a, const void *b)
{
    const struct sess_turn *x = a, *y = b;
    if (x->session != y->session)
        return x->session < y->session ? -1 : 1;
    return x->turn < y->turn ? -1 : x->turn > y->turn;
}

/* Requests: ids unique, (session, turn) unique, timestamps in order. */
int dp_inv_records(struct dp_inv *iv, const struct dp_metrics *m, uint64_t want, int full)
{
    int bad = 0;
    size_t n = m->n_recs;
    if (n != want)
        bad |= violation(iv, "%zu request records for %llu requests %s", n,
                         (unsigned long long)want, full ? "in the workload" : "finished");
    uint64_t *k = malloc((n ? n : 1) * sizeof *k);
    struct sess_turn *st = malloc((n ? n : 1) * sizeof *st);
    if (!k || !st) {
        free(k);
        free(st);
        return bad;
    }
    for (size_t i = 0; i < n; i++) {
        const struct dp_req_rec *r = &m->recs[i];
        k[i] = r->id;
        st[i] = (struct sess_turn){ r->session, r->turn };
        const double t[] = { r->t_issue, r->t_ready, r->t_prefill, r->t_first, r->t_decode,
                             r->t_done };
        for (int j = 1; j < 6; j++)
            if (t[j] < t[j - 1]) {
                bad |= violation(iv, "request %llu (session %llu turn %u): its times go back "
                                 "(step %d at %.9f s before step %d at %.9f s)",
                                 (unsigned long long)r->id, (unsigned long long)r->session,
                                 r->turn, j, t[j], j - 1, t[j - 1]);
                break;
            }
    }
    qsort(k, n, sizeof *k, cmp_u64);
    qsort(st, n, sizeof *st, cmp_sess_turn);
    for (size_t i = 1; i < n; i++) {
        if (k[i] == k[i - 1])
            bad |= violation(iv, "request %llu completed more than once",
                             (unsigned long long)k[i]);
        if (!cmp_sess_turn(&st[i], &st[i - 1]))
            bad |= violation(iv, "session %llu turn %u completed more than once",
                             (unsigned long long)st[i].session, st[i].turn);
    }
    free(k);
    free(st);
    return bad;
}

static int engines_drained(struct dp_inv *iv, const struct dp_engine *e, uint32_t n)
{
    int bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct dp_engine *x = &e[i];
        if (x->hbm_used != 0 || x->dram_used != 0 || x->read_q.n || x->reads_inflight ||
            x->read_q_bytes != 0 || x->ready_q.n || x->pending_tokens || x->batch ||
            x->admit_q.n || x->n_running || x->n_incoming || x->stepping)
            bad |= violation(iv, "engine %d not drained after the last request: HBM %.6g B, "
                             "DRAM %.6g B, reads %u queued %u in flight, %u ready, %llu "
                             "pending tokens, %u waiting admission, %u running, %u moving in",
                             x->id, x->hbm_used, x->dram_used, x->read_q.n, x->reads_inflight,
                             x->ready_q.n, (unsigned long long)x->pending_tokens, x->admit_q.n,
                             x->n_running, x->n_incoming);
    }
    return bad;
}

static int bytes_match(struct dp_inv *iv, const char *what, int32_t engine, double got,
                       double want, double transfers)
{
    /* every transfer's size is truncated to whole bytes: < 1 B each */
    double tol = transfers + 1 + 1e-9 * want;
    if (fabs(got - want) <= tol)
        return 0;
    return violation(iv, "engine %d: %s carried %.0f B, its requests needed %.0f B (%.0f transfers)",
                     engine, what, got, want, transfers);
}

/* Bytes: storage reads, their way into HBM, write-backs, per engine. */
int dp_inv_bytes(struct dp_inv *iv, const struct dp_sim *s, const struct dp_workload *w,
                 const struct dp_metrics *m)
{
    const struct dp_scenario *sc = s->sc;
    const struct dp_policy_ops *pol = dp_policy_find(sc->policy.name);
    uint32_t ne = s->n_engines, nl = sc->model.n_layers;
    /* requests named by hash ids (open loop, DAG sessions) write back only
     * their input blocks: the write-back check below is for agent sessions */
    int open = 0;
    for (size_t i = 0; i < w->n_sessions; i++)
        open |= w->sessions[i].open_loop || w->sessions[i].links != NULL;
    double *want = calloc((size_t)ne * 6, sizeof *want);
    if (!want)
        return 0;
    double *rd = want, *h2d = want + ne, *wr = want + 2 * ne;
    double *n_rd = want + 3 * ne, *n_h2d = want + 4 * ne, *n_wr = want + 5 * ne;
    double kv = iv->kv_tok, bt = sc->workload.block_tokens;
    for (size_t i = 0; i < m->n_recs; i++) {
        const struct dp_req_rec *r = &m->recs[i];
        if (r->pe < 0 || (uint32_t)r->pe >= ne || r->de < 0 || (uint32_t)r->de >= ne) {
            free(want);
            return violation(iv, "request %llu ran on engines %d/%d of %u",
                             (unsigned long long)r->id, r->pe, r->de, ne);
        }
        double pe_tok = (double)r->cached_tokens - r->de_cached_tokens;
        double de_tok = r->de_cached_tokens;
        if (!pol || !pol->storage_unlimited) {
            rd[r->pe] += pe_tok * kv;
            rd[r->de] += de_tok * kv;
            n_rd[r->pe] += pe_tok > 0;
            n_rd[r->de] += de_tok > 0;
        }
        /* PE path: layer by layer from the PE's DRAM (one load per layer
         * per batch, each truncated); DE path: one move in the DE */
        h2d[r->pe] += pe_tok * kv;
        n_h2d[r->pe] += pe_tok > 0 ? nl : 0;
        h2d[r->de] += de_tok * kv;
        n_h2d[r->de] += de_tok > 0;
        if (!open) {
            double hi = floor(((double)r->input_tokens + r->output_tokens) / bt);
            double lo = r->cached_tokens / bt;
            if (hi > lo) {
                wr[r->de] += (hi - lo) * bt * kv;
                n_wr[r->de] += 1;
            }
        }
    }
    int bad = 0;
    for (uint32_t e = 0; e < ne; e++) {
        const uint32_t *L = &s->links[(size_t)e * L_PER_ENGINE];
        struct dp_net *net = (struct dp_net *)&s->net;
        bad |= bytes_match(iv, "storage NIC (read)", (int32_t)e,
                           dp_link_bytes(net, L[L_SNIC_RX], s->now), rd[e], n_rd[e]);
        bad |= bytes_match(iv, "PCIe host-to-device", (int32_t)e,
                           dp_link_bytes(net, L[L_PCIE_H2D], s->now), h2d[e], n_h2d[e]);
        if (!open)
            bad |= bytes_match(iv, "storage NIC (write-back)", (int32_t)e,
                               dp_link_bytes(net, L[L_SNIC_TX], s->now), wr[e], n_wr[e]);
    }
    free(want);
    return bad;
}

int dp_inv_end(struct dp_inv *iv, const struct dp_sim *s, const struct dp_core *core,
               const struct dp_workload *w, const struct dp_metrics *m)
{
    uint64_t total = dp_workload_total_turns(w);
    uint64_t done = dp_core_requests_done(core);
    /* finished: every turn done, and not cut by run.max_time_s while the
     * last write-backs were still moving */
    double max_t = s->sc->run.max_time_s;
    int full = done == total && m->failed == 0 && !(max_t > 0 && sec(s->now) >= max_t);
    int bad = dp_inv_records(iv, m, full ? total : done, full);
    if (!full)
        return bad;   /* requests in flight: memory held, bytes half moved */
    uint32_t n;
    const struct dp_engine *e = dp_core_engines(core, &n);
    bad |= engines_drained(iv, e, n);
    bad |= dp_inv_bytes(iv, s, w, m);
    return bad;
}
