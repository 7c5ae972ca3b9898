/* Workload transforms for replay (trace.h, "Replay"): hash ids converted
 * to the scenario's block size, closed-loop sessions flattened into
 * timestamped requests (open-loop replay, Mooncake output), arrival times
 * compressed or stretched.
 *
 * Block-size conversion relies on chained ids (every loader gives them:
 * equal ids name equal prefixes). From H-token ids to B-token blocks:
 *  - B = m*H (coarser): block j is named by the id of its last H-block,
 *    which names the whole prefix up to there; a last partial block by the
 *    last id it holds. Two prompts that share k H-blocks share floor(k/m)
 *    B-blocks: the rest of the sharing is lost (trace stats reports it).
 *  - H = m*B (finer): H-block id c becomes the m ids intern(c, 0..m-1);
 *    the trace only knows sharing in whole H-blocks, so that is what the
 *    finer blocks share (nothing is lost, nothing is invented).
 *  - otherwise: an error (neither size divides the other). */
#include "traces/trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace_internal.h"

/* Copies s into w with new turns (and the same links). */
static int add_like(struct dp_workload *w, const struct dp_session *s,
                    const struct dp_turn *turns)
{
    struct dp_session *n = s->links ? dp_workload_add_dag(w, s->start_ns, turns, s->links,
                                                          s->n_turns)
                                    : dp_workload_add(w, s->start_ns, s->open_loop, turns,
                                                      s->n_turns);
    if (!n)
        return DP_ENOMEM;
    n->id = s->id;
    return 0;
}

/* The new ids of one turn into out (room for n_out). */
static int convert_ids(const struct dp_turn *t, uint32_t from, uint32_t to,
                       struct dp_tr_intern *split, uint64_t *out, uint32_t *n_out)
{
    uint64_t need = ((uint64_t)t->input_tokens + to - 1) / to;
    uint32_t n = 0;
    if (to >= from) {
        uint32_t m = to / from;
        for (uint32_t j = 0; (uint64_t)j * m < t->n_hash && n < need; j++) {
            uint64_t last = (uint64_t)j * m + m - 1;
            out[n++] = t->hash_ids[last < t->n_hash ? last : t->n_hash - 1];
        }
    } else {
        uint32_t m = from / to;
        for (uint32_t i = 0; i < t->n_hash; i++)
            for (uint32_t k = 0; k < m && n < need; k++)
                if (dp_tr_intern(split, t->hash_ids[i], k, &out[n++]) != 0)
                    return DP_ENOMEM;
    }
    *n_out = n;
    return 0;
}

int dp_workload_rebloc(struct dp_workload *w, uint32_t block_tokens, struct dp_err *err)
{
    uint32_t from = w->hash_tokens, to = block_tokens;
    if (!from || from == to) {
        if (!from && to)
            w->block_tokens = to;
        return 0;
    }
    if (to == 0 || (to % from && from % to))
        return dp_err_set(err, DP_EINVAL,
                          "%s: the trace's hash ids name %u-token blocks and the scenario's "
                          "workload.block_tokens is %u: one must be a multiple of the other "
                          "to keep prefix sharing (e.g. block_tokens %u)",
                          w->source, from, to, from);
    struct dp_workload out;
    dp_workload_init(&out, to);
    memcpy(out.source, w->source, sizeof out.source);
    out.hash_tokens = to;
    struct dp_tr_intern split;
    struct dp_turn *turns = NULL;
    size_t cap_turns = 0;
    if (dp_tr_intern_init(&split, to < from ? 4096 : 1) != 0)
        return dp_err_set(err, DP_ENOMEM, "%s: out of memory converting hash ids", w->source);
    int rc = 0;
    for (size_t i = 0; i < w->n_sessions && rc == 0; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (s->n_turns > cap_turns) {
            free(turns);
            cap_turns = s->n_turns;
            turns = malloc(cap_turns * sizeof *turns);
            if (!turns) {
                rc = DP_ENOMEM;
                break;
            }
        }
        /* ids of all turns back to back: add_like copies them */
        size_t total = 0;
        for (uint32_t k = 0; k < s->n_turns; k++)
            total += to < from ? (size_t)s->turns[k].n_hash * (from / to) : s->turns[k].n_hash;
        uint64_t *buf = malloc((total ? total : 1) * sizeof *buf), *p = buf;
        if (!buf) {
            rc = DP_ENOMEM;
            break;
        }
        for (uint32_t k = 0; k < s->n_turns && rc == 0; k++) {
            turns[k] = s->turns[k];
            if (!s->turns[k].hash_ids)
                continue;
            rc = convert_ids(&s->turns[k], from, to, &split, p, &turns[k].n_hash);
            turns[k].hash_ids = turns[k].n_hash ? p : NULL;
            p += turns[k].n_hash;
        }
        if (rc == 0)
            rc = add_like(&out, s, turns);
        free(buf);
    }
    free(turns);
    dp_tr_intern_free(&split);
    if (rc) {
        dp_workload_free(&out);
        return dp_err_set(err, DP_ENOMEM, "%s: out of memory converting hash ids", w->source);
    }
    dp_workload_free(w);
    *w = out;
    return 0;
}

/* ------------------------------------------------------------ flatten */

/* A closed-loop session's turns as timestamped requests. Agent sessions
 * (no links): turn k at the start plus the think times up to k, its input
 * the accumulated context, its ids the session's blocks 0..n-1 (so a turn
 * reuses the context before it, as in closed loop). DAG sessions: each
 * turn at its recorded time, with its own input and ids. */
static int flatten_session(struct dp_workload *out, const struct dp_session *s, size_t index,
                           struct dp_tr_intern *blocks, uint32_t bt, uint64_t **ids,
                           size_t *cap_ids)
{
    uint64_t ctx = 0, at = 0;
    for (uint32_t k = 0; k < s->n_turns; k++) {
        struct dp_turn t = s->turns[k];
        if (s->links) {
            at = s->links[k].at_ns;
        } else if (!s->open_loop) {
            at += k ? t.think_ns : 0;
            uint64_t input = ctx + t.append_tokens;
            t.input_tokens = input > UINT32_MAX ? UINT32_MAX : (uint32_t)input;
            ctx = (uint64_t)t.input_tokens + t.output_tokens;
            size_t n = ((size_t)t.input_tokens + bt - 1) / bt;
            if (DP_GROW(*ids, *cap_ids, n, 64))
                return DP_ENOMEM;
            for (size_t i = 0; i < n; i++)
                if (dp_tr_intern(blocks, index, i, &(*ids)[i]) != 0)
                    return DP_ENOMEM;
            t.n_hash = (uint32_t)n;
            t.hash_ids = *ids;
        }
        t.think_ns = 0;
        t.append_tokens = t.input_tokens;   /* every token is the request's own */
        if (!dp_workload_add(out, s->start_ns + at, 1, &t, 1))
            return DP_ENOMEM;
    }
    return 0;
}

int dp_workload_open_loop(struct dp_workload *w, struct dp_err *err)
{
    int closed = 0, hashed = w->hash_tokens != 0;
    for (size_t i = 0; i < w->n_sessions; i++)
        closed |= !w->sessions[i].open_loop;
    if (!closed)
        return 0;
    struct dp_workload out;
    uint32_t bt = hashed ? w->hash_tokens : w->block_tokens;
    dp_workload_init(&out, bt);
    memcpy(out.source, w->source, sizeof out.source);
    out.hash_tokens = bt;
    struct dp_tr_intern blocks;
    uint64_t *ids = NULL;
    size_t cap_ids = 0;
    int rc = dp_tr_intern_init(&blocks, 4096);
    for (size_t i = 0; i < w->n_sessions && rc == 0; i++)
        rc = flatten_session(&out, &w->sessions[i], i, &blocks, bt, &ids, &cap_ids);
    if (rc == 0)
        rc = dp_tr_sort_sessions(&out);
    /* numbered in time order, as the requests of a Mooncake file are */
    for (size_t i = 0; rc == 0 && i < out.n_sessions; i++)
        out.sessions[i].id = i;
    free(ids);
    dp_tr_intern_free(&blocks);
    if (rc) {
        dp_workload_free(&out);
        return dp_err_set(err, DP_ENOMEM, "%s: out of memory for the open-loop requests",
                          w->source);
    }
    dp_workload_free(w);
    *w = out;
    return 0;
}

/* --------------------------------------------------------------- time */

static uint64_t scale_ns(uint64_t ns, double scale)
{
    double x = (double)ns * scale;
    return x >= 1.8e19 ? UINT64_MAX : (uint64_t)llround(x);
}

void dp_workload_scale_time(struct dp_workload *w, double scale)
{
    if (scale == 1.0)
        return;
    for (size_t i = 0; i < w->n_sessions; i++) {
        struct dp_session *s = &w->sessions[i];
        s->start_ns = scale_ns(s->start_ns, scale);
        for (uint32_t k = 0; s->links && k < s->n_turns; k++)
            s->links[k].at_ns = scale_ns(s->links[k].at_ns, scale);
    }
}

double dp_workload_rate_scale(const struct dp_workload *w, double rate)
{
    if (w->n_sessions < 2 || rate <= 0)
        return 1.0;
    uint64_t first = w->sessions[0].start_ns, last = first;
    for (size_t i = 1; i < w->n_sessions; i++) {
        if (w->sessions[i].start_ns < first)
            first = w->sessions[i].start_ns;
        if (w->sessions[i].start_ns > last)
            last = w->sessions[i].start_ns;
    }
    if (last == first)
        return 1.0;
    /* n arrivals over the span make n - 1 gaps */
    return (double)(w->n_sessions - 1) / (rate * ((double)(last - first) / 1e9));
}

/* ------------------------------------------------------------- chains */

int dp_workload_chains(struct dp_workload *w, uint64_t *reshaped, struct dp_err *err)
{
    struct dp_workload out;
    dp_workload_init(&out, w->block_tokens);
    memcpy(out.source, w->source, sizeof out.source);
    struct dp_turn *turns = NULL;
    size_t cap = 0;
    int rc = 0;
    *reshaped = 0;
    for (size_t i = 0; i < w->n_sessions && rc == 0; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (s->n_turns > cap) {
            free(turns);
            cap = s->n_turns;
            if (!(turns = malloc(cap * sizeof *turns))) {
                rc = DP_ENOMEM;
                break;
            }
        }
        int shaped = 0;
        for (uint32_t k = 0; k < s->n_turns; k++) {
            const struct dp_turn_link *l = s->links ? &s->links[k] : NULL;
            turns[k] = (struct dp_turn){0};
            turns[k].output_tokens = s->turns[k].output_tokens;
            turns[k].think_ns = k ? s->turns[k].think_ns : 0;
            /* open loop: the whole prompt is the request's own */
            turns[k].append_tokens = s->open_loop ? s->turns[k].input_tokens
                                                  : s->turns[k].append_tokens;
            if (turns[k].append_tokens == 0)
                turns[k].append_tokens = 1;
            if (l)
                shaped |= k ? (l->n_deps != 1 || l->deps[0] != k - 1 ||
                               (l->flags & DP_TURN_RESET))
                            : 0;
        }
        *reshaped += (uint64_t)shaped;
        struct dp_session *n = dp_workload_add(&out, s->start_ns, 0, turns, s->n_turns);
        if (!n)
            rc = DP_ENOMEM;
        else
            n->id = s->id;
    }
    free(turns);
    if (rc) {
        dp_workload_free(&out);
        return dp_err_set(err, DP_ENOMEM, "%s: out of memory", w->source);
    }
    dp_workload_free(w);
    *w = out;
    return 0;
}
