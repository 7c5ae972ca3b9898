/* Workload statistics (dp_trace_stats), as `dualpath trace` prints them.
 *
 * Reuse is what an unbounded prefix cache would serve:
 *  - closed loop: request k's context is every append up to k plus every
 *    output before k; the previous turn's whole context (its input and
 *    output) is cached, in whole blocks only, so the reusable part is that
 *    context rounded down to block_tokens (never above the input);
 *  - open loop: the longest prefix of the request's hash_ids that any earlier
 *    request (in issue order) carried, matched blocks * block_tokens, capped
 *    at input_length. Earlier requests' ids go into one global hash set. */
#include "traces/trace.h"

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
        if (!s->open_loop)
            continue;
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

static int open_session(struct acc *a, const struct dp_session *s, uint64_t bt,
                        struct seen *z)
{
    for (uint32_t k = 0; k < s->n_turns; k++) {
        const struct dp_turn *t = &s->turns[k];
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
        add_request(a, t->input_tokens, t->output_tokens,
                    (double)(t->input_tokens - reuse), (double)reuse);
    }
    return 0;
}

int dp_trace_stats(const struct dp_workload *w, struct dp_trace_stats *s)
{
    if (!w || !s)
        return DP_EINVAL;
    memset(s, 0, sizeof *s);
    size_t n_req = dp_workload_total_turns(w);
    s->sessions = w->n_sessions;
    s->requests = n_req;
    if (n_req == 0)
        return 0;
    uint64_t bt = w->block_tokens ? w->block_tokens : DP_TRACE_BLOCK_TOKENS;

    struct acc a = {0};
    a.inputs = malloc(n_req * sizeof *a.inputs);
    if (!a.inputs)
        return DP_ENOMEM;
    struct seen seen;
    if (seen_init(&seen, w) != 0) {
        free(a.inputs);
        return DP_ENOMEM;
    }
    int rc = 0;
    uint64_t first = UINT64_MAX, last = 0;
    for (size_t i = 0; i < w->n_sessions && rc == 0; i++) {
        const struct dp_session *ss = &w->sessions[i];
        if (ss->start_ns < first)
            first = ss->start_ns;
        if (ss->start_ns > last)
            last = ss->start_ns;
        if (ss->open_loop)
            rc = open_session(&a, ss, bt, &seen);
        else
            closed_session(&a, ss, bt);
    }
    seen_free(&seen);
    if (rc) {
        free(a.inputs);
        return rc;
    }

    double n = (double)n_req;
    s->turns_mean = n / (double)w->n_sessions;
    s->input_mean = a.input_sum / n;
    s->output_mean = a.output_sum / n;
    s->append_mean = a.append_sum / n;
    s->reuse_fraction = a.input_sum > 0 ? a.reuse_sum / a.input_sum : 0;
    s->span_s = (double)(last - first) / 1e9;
    gsl_sort(a.inputs, 1, n_req);
    s->input_p50 = gsl_stats_quantile_from_sorted_data(a.inputs, 1, n_req, 0.50);
    s->input_p99 = gsl_stats_quantile_from_sorted_data(a.inputs, 1, n_req, 0.99);
    free(a.inputs);
    return 0;
}
