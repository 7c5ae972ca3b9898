/* Workload statistics (dp_trace_stats) and the series behind their plot
 * (dp_trace_profile_write), as `dualpath trace stats` prints and draws them.
 *
 * Reuse is what an unbounded prefix cache would serve:
 *  - agent sessions: request k's context is every append up to k plus every
 *    output before k; the previous turn's whole context (its input and
 *    output) is cached, in whole blocks only, so the reusable part is that
 *    context rounded down to block_tokens (never above the input);
 *  - requests with hash ids (Mooncake requests, DAG sessions' turns): the
 *    longest prefix of the request's hash_ids that any earlier request (by
 *    issue time: session start + recorded offset) carried, matched blocks *
 *    block_tokens, capped at input_length. */
#include "traces/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "traces/trace_internal.h"

struct acc {
    double *inputs;          /* every request's input, for the percentiles */
    size_t n;
    double input_sum, output_sum, append_sum, reuse_sum;
};

static void add_request(struct acc *a, double input, double output, double append,
                        double reuse)
{
    a->inputs[a->n++] = input;
    a->input_sum += input;
    a->output_sum += output;
    a->append_sum += append;
    a->reuse_sum += reuse;
}

static void closed_session(struct acc *a, const struct dp_session *s, uint64_t bt)
{
    uint64_t ctx = 0;   /* previous turns' inputs and outputs */
    for (uint32_t k = 0; k < s->n_turns; k++) {
        const struct dp_turn *t = &s->turns[k];
        uint64_t input = ctx + t->append_tokens;
        uint64_t reuse = ctx / bt * bt;
        if (reuse > input)
            reuse = input;
        add_request(a, (double)input, t->output_tokens, t->append_tokens, (double)reuse);
        ctx = input + t->output_tokens;
    }
}

/* The set of hash ids seen so far. Mooncake traces remap their hashes to
 * dense small integers, so a bitmap over [0, max id] is used when it is not
 * much larger than the ids themselves: one bit a block, no probing. Other
 * ids fall back to a hash set. */
struct seen {
    uint64_t *bits;          /* NULL: use map */
    struct dp_u64map map;
};

static int seen_init(struct seen *z, const struct dp_workload *w)
{
    uint64_t total = 0, max_id = 0;
    memset(z, 0, sizeof *z);
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        for (uint32_t k = 0; k < s->n_turns; k++)
            for (uint32_t j = 0; j < s->turns[k].n_hash; j++) {
                uint64_t id = s->turns[k].hash_ids[j];
                if (id > max_id)
                    max_id = id;
                total++;
            }
    }
    /* Dense: the bitmap takes at most 64 bits per id (what a hash set slot
     * costs), or 1 MiB, whichever is larger. */
    if (total > 0 && max_id / 64 < total + (1u << 17)) {
        z->bits = calloc(max_id / 64 + 1, sizeof *z->bits);
        if (z->bits)
            return 0;
    }
    return dp_u64map_init(&z->map, total < (1u << 20) ? total : (1u << 20), 0);
}

static int seen_has(const struct seen *z, uint64_t id)
{
    if (z->bits)
        return (z->bits[id / 64] >> (id % 64)) & 1;
    return dp_u64map_get(&z->map, id, NULL);
}

static int seen_add(struct seen *z, uint64_t id)
{
    if (z->bits) {
        z->bits[id / 64] |= (uint64_t)1 << (id % 64);
        return 0;
    }
    return dp_u64map_put(&z->map, id, 0);
}

static void seen_free(struct seen *z)
{
    free(z->bits);
    dp_u64map_free(&z->map);   /* zeroed when the bitmap was used */
}

static int hashed_request(struct acc *a, const struct dp_turn *t, uint64_t bt, struct seen *z)
{
    uint32_t matched = 0;
    while (matched < t->n_hash && seen_has(z, t->hash_ids[matched]))
        matched++;
    uint64_t reuse = (uint64_t)matched * bt;
    if (reuse > t->input_tokens)
        reuse = t->input_tokens;
    /* Added after matching: a request cannot hit its own blocks. */
    for (uint32_t i = 0; i < t->n_hash; i++)
        if (seen_add(z, t->hash_ids[i]) != 0)
            return DP_ENOMEM;
    add_request(a, t->input_tokens, t->output_tokens, (double)(t->input_tokens - reuse),
                (double)reuse);
    return 0;
}

/* ---- requests with hash ids, in issue-time order ---- */

struct ref {
    uint64_t at;
    uint32_t sess, turn;
};

static int ref_cmp(const void *x, const void *y)
{
    const struct ref *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    if (a->sess != b->sess)
        return a->sess < b->sess ? -1 : 1;
    return a->turn < b->turn ? -1 : a->turn > b->turn;
}

static uint64_t issue_at(const struct dp_session *s, uint32_t k)
{
    return s->start_ns + (s->links ? s->links[k].at_ns : 0);
}

/* Requests carrying hash ids (open-loop and DAG turns) by issue time; a
 * trace of one-turn open-loop sessions is already in that order. */
static int hashed_order(const struct dp_workload *w, struct ref **out, size_t *n_out)
{
    size_t n = 0, dag = 0;
    for (size_t i = 0; i < w->n_sessions; i++)
        if (w->sessions[i].open_loop || w->sessions[i].links) {
            n += w->sessions[i].n_turns;
            dag |= w->sessions[i].links != NULL;
        }
    struct ref *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return DP_ENOMEM;
    size_t j = 0;
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (s->open_loop || s->links)
            for (uint32_t k = 0; k < s->n_turns; k++)
                r[j++] = (struct ref){issue_at(s, k), (uint32_t)i, k};
    }
    if (dag)
        qsort(r, n, sizeof *r, ref_cmp);
    *out = r;
    *n_out = n;
    return 0;
}

static double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    gsl_sort(v, 1, n);
    return gsl_stats_quantile_from_sorted_data(v, 1, n, q);
}

/* Think/tool gaps and context growth of follow-up turns. */
static int gap_stats(const struct dp_workload *w, struct dp_trace_stats *s)
{
    size_t n = dp_workload_total_turns(w), g = 0, ng = 0;
    double *gap = malloc((n ? n : 1) * sizeof *gap), sum = 0, tool = 0, growth = 0;
    if (!gap)
        return DP_ENOMEM;
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *ss = &w->sessions[i];
        if (ss->open_loop)
            continue;
        uint64_t ctx = 0, prev_input = 0;
        int branchy = 0;
        for (uint32_t k = 0; k < ss->n_turns; k++) {
            const struct dp_turn *t = &ss->turns[k];
            const struct dp_turn_link *l = ss->links ? &ss->links[k] : NULL;
            uint64_t input = t->input_tokens ? t->input_tokens : ctx + t->append_tokens;
            int follows = l ? l->n_deps > 0 : k > 0;
            if (l) {
                branchy |= l->n_deps > 1 || (l->n_deps == 1 && l->deps[0] != k - 1) ||
                           (l->n_deps == 0 && k > 0);
                prev_input = l->n_deps ? ss->turns[l->deps[0]].input_tokens : 0;
                if (!prev_input && l->n_deps)
                    prev_input = input;
            }
            if (follows) {
                gap[g++] = (double)t->think_ns / 1e9;
                sum += (double)t->think_ns / 1e9;
                tool += l ? (double)l->tool_ns / 1e9 : 0;
                if (!l || !(l->flags & DP_TURN_RESET)) {
                    growth += (double)input - (double)prev_input;
                    ng++;
                }
            }
            prev_input = input;
            ctx = input + t->output_tokens;
        }
        s->dag_sessions += branchy;
    }
    s->gaps = g;
    if (g) {
        s->think_mean_s = sum / (double)g;
        s->tool_share = sum > 0 ? tool / sum : 0;
        s->growth_mean = ng ? growth / (double)ng : 0;
        s->think_p50_s = quantile(gap, g, 0.50);
        s->think_p99_s = quantile(gap, g, 0.99);
    }
    free(gap);
    return 0;
}

static int turn_stats(const struct dp_workload *w, struct dp_trace_stats *s)
{
    double *turns = malloc(w->n_sessions * sizeof *turns);
    if (!turns)
        return DP_ENOMEM;
    for (size_t i = 0; i < w->n_sessions; i++)
        turns[i] = w->sessions[i].n_turns;
    s->turns_p50 = quantile(turns, w->n_sessions, 0.50);
    s->turns_p99 = quantile(turns, w->n_sessions, 0.99);
    s->turns_max = turns[w->n_sessions - 1];
    free(turns);
    return 0;
}

static int request_stats(const struct dp_workload *w, uint64_t bt, struct acc *a)
{
    struct seen seen;
    struct ref *order = NULL;
    size_t n_order = 0;
    if (seen_init(&seen, w) != 0)
        return DP_ENOMEM;
    int rc = hashed_order(w, &order, &n_order);
    for (size_t i = 0; i < n_order && rc == 0; i++)
        rc = hashed_request(a, &w->sessions[order[i].sess].turns[order[i].turn], bt, &seen);
    for (size_t i = 0; i < w->n_sessions && rc == 0; i++)
        if (!w->sessions[i].open_loop && !w->sessions[i].links)
            closed_session(a, &w->sessions[i], bt);
    free(order);
    seen_free(&seen);
    return rc;
}

int dp_trace_stats(const struct dp_workload *w, struct dp_trace_stats *s)
{
    if (!w || !s)
        return DP_EINVAL;
    memset(s, 0, sizeof *s);
    size_t n_req = dp_workload_total_turns(w);
    s->sessions = w->n_sessions;
    s->requests = n_req;
    s->hash_tokens = w->hash_tokens;
    s->block_tokens = w->block_tokens;
    if (n_req == 0)
        return 0;
    uint64_t bt = w->block_tokens ? w->block_tokens : DP_TRACE_BLOCK_TOKENS;

    struct acc a = {0};
    a.inputs = malloc(n_req * sizeof *a.inputs);
    if (!a.inputs)
        return DP_ENOMEM;
    int rc = request_stats(w, bt, &a);
    if (rc == 0)
        rc = gap_stats(w, s);
    if (rc == 0)
        rc = turn_stats(w, s);
    if (rc) {
        free(a.inputs);
        return rc;
    }
    uint64_t first = UINT64_MAX, last = 0;
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *ss = &w->sessions[i];
        for (uint32_t k = 0; k < (ss->links ? ss->n_turns : 1); k++) {
            uint64_t at = issue_at(ss, k);   /* DAG turns: as recorded */
            first = at < first ? at : first;
            last = at > last ? at : last;
        }
    }
    double n = (double)n_req;
    s->turns_mean = n / (double)w->n_sessions;
    s->input_mean = a.input_sum / n;
    s->output_mean = a.output_sum / n;
    s->append_mean = a.append_sum / n;
    s->reuse_fraction = a.input_sum > 0 ? a.reuse_sum / a.input_sum : 0;
    s->span_s = (double)(last - first) / 1e9;
    s->input_p50 = quantile(a.inputs, n_req, 0.50);
    s->input_p99 = quantile(a.inputs, n_req, 0.99);
    free(a.inputs);
    return 0;
}

/* ------------------------------------------------------------ profile */

static void write_turns(FILE *f, const struct dp_workload *w, uint32_t max_turns)
{
    uint64_t *count = calloc((size_t)max_turns + 1, sizeof *count);
    if (!count)
        return;
    for (size_t i = 0; i < w->n_sessions; i++)
        count[w->sessions[i].n_turns]++;
    for (uint32_t k = 1; k <= max_turns; k++)
        if (count[k])
            fprintf(f, "turns\t%u\t%llu\n", k, (unsigned long long)count[k]);
    free(count);
}

static void write_context(FILE *f, const struct dp_workload *w, uint32_t max_turns)
{
    double *sum = calloc((size_t)max_turns + 1, sizeof *sum);
    uint64_t *n = calloc((size_t)max_turns + 1, sizeof *n);
    for (size_t i = 0; sum && n && i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        uint64_t ctx = 0;
        for (uint32_t k = 0; k < s->n_turns; k++) {
            const struct dp_turn *t = &s->turns[k];
            uint64_t input = t->input_tokens ? t->input_tokens : ctx + t->append_tokens;
            sum[k] += (double)input;
            n[k]++;
            ctx = input + t->output_tokens;
        }
    }
    for (uint32_t k = 0; sum && n && k < max_turns; k++)
        if (n[k])
            fprintf(f, "context\t%u\t%llu\t%.1f\n", k + 1, (unsigned long long)n[k],
                    sum[k] / (double)n[k]);
    free(sum);
    free(n);
}

static void write_gaps(FILE *f, const struct dp_workload *w)
{
    size_t total = 0;
    for (size_t i = 0; i < w->n_sessions; i++)
        if (!w->sessions[i].open_loop)
            total += w->sessions[i].n_turns;
    size_t step = total > 20000 ? total / 20000 : 1, j = 0;
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        for (uint32_t k = 0; !s->open_loop && k < s->n_turns; k++) {
            int follows = s->links ? s->links[k].n_deps > 0 : k > 0;
            if (follows && j++ % step == 0)
                fprintf(f, "gap\t%.6f\t%.6f\n", (double)s->turns[k].think_ns / 1e9,
                        s->links ? (double)s->links[k].tool_ns / 1e9 : 0.0);
        }
    }
}

/* Requests (open loop, DAG turns) or sessions (agent sessions) issued per
 * second of recorded time. */
static void write_arrivals(FILE *f, const struct dp_workload *w)
{
    uint64_t last = 0;
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        uint32_t n = s->links ? s->n_turns : 1;
        for (uint32_t k = 0; k < n; k++)
            if (issue_at(s, k) > last)
                last = issue_at(s, k);
    }
    size_t bins = (size_t)(last / 1000000000u) + 1;
    if (bins > 1000000)
        return;   /* a span over 11 days: not a per-second plot */
    uint64_t *count = calloc(bins, sizeof *count);
    if (!count)
        return;
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        uint32_t n = s->links ? s->n_turns : 1;
        for (uint32_t k = 0; k < n; k++)
            count[issue_at(s, k) / 1000000000u]++;
    }
    for (size_t b = 0; b < bins; b++)
        fprintf(f, "arrivals\t%zu\t%llu\n", b, (unsigned long long)count[b]);
    free(count);
}

static int write_profile(FILE *f, const void *ctx)
{
    const struct dp_workload *w = ctx;
    uint32_t max_turns = 0;
    for (size_t i = 0; i < w->n_sessions; i++)
        if (w->sessions[i].n_turns > max_turns)
            max_turns = w->sessions[i].n_turns;
    fprintf(f, "# dualpath trace profile of %s\n", w->source);
    write_turns(f, w, max_turns);
    write_context(f, w, max_turns);
    write_gaps(f, w);
    write_arrivals(f, w);
    return 0;
}

int dp_trace_profile_write(const char *path, const struct dp_workload *w, struct dp_err *err)
{
    return dp_tr_write_atomic(path, write_profile, w, err);
}
