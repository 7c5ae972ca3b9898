/* Qwen-Bailian usage-trace reader (traces/README.md, "Qwen-Bailian format").
 *
 * One request a line, as alibaba-edu/qwen-bailian-usagetraces-anon
 * publishes them: {"chat_id": 159, "parent_chat_id": 55, "timestamp":
 * 61.114, "input_length": 521, "output_length": 132, "type": "text",
 * "turn": 2, "hash_ids": [...]}. A request whose parent_chat_id is -1
 * starts a conversation; every other one follows its parent, which must be
 * in the file (anywhere: parents are resolved after the last line). Each
 * conversation tree becomes one DAG session (traces/dag.c).
 *
 * The published hash_ids are salted hashes of single 16-token blocks, so
 * an id alone does not say that the blocks before it match; they are
 * chained here (id i becomes the interned pair (chained id i-1, id i)),
 * which makes equal ids mean equal prefixes, as in Mooncake traces. */
#include "traces/trace.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace_internal.h"

#define BAILIAN_HASH_TOKENS 16u   /* "16 tokens per block": the data set's README */

struct reader {
    struct dp_tr_dag dag;
    struct dp_u64map chat_row;    /* chat_id -> row */
    int64_t *parent;              /* by row: parent chat_id, -1 for a root */
    size_t cap_parent;
    struct dp_tr_ids ids;
    struct dp_tr_intern chain;
    uint32_t hash_tokens;
};

/* Seconds (integer or real, >= 0) to ns. */
static int read_seconds(const struct dp_tr_at *at, const json_t *v, uint64_t *ns)
{
    if (!v)
        return dp_tr_fail(at, "timestamp", "missing");
    if (!json_is_number(v))
        return dp_tr_fail(at, "timestamp", "must be a number (seconds), got %s",
                          dp_tr_json_type(v));
    double x = json_number_value(v);
    if (!(x >= 0))
        return dp_tr_fail(at, "timestamp", "must be >= 0, got %g", x);
    if (x > DP_TRACE_MAX_MS / 1000)
        return dp_tr_fail(at, "timestamp", "must be <= %.0f s, got %g", DP_TRACE_MAX_MS / 1000, x);
    *ns = (uint64_t)llround(x * 1e9);
    return 0;
}

/* An integer id in [min, INT64_MAX]. */
static int read_id(const struct dp_tr_at *at, const json_t *v, const char *label, int64_t min,
                   int64_t *out)
{
    if (!v)
        return dp_tr_fail(at, label, "missing");
    if (!json_is_integer(v))
        return dp_tr_fail(at, label, "must be an integer, got %s", dp_tr_json_type(v));
    json_int_t x = json_integer_value(v);
    if (x < min)
        return dp_tr_fail(at, label, "must be >= %lld%s, got %lld", (long long)min,
                          min < 0 ? " (-1: a conversation's first request)" : "", (long long)x);
    *out = x;
    return 0;
}

/* Chains per-block ids into prefix ids, in place. */
static int chain_ids(struct reader *rd, const struct dp_tr_at *at)
{
    uint64_t prev = UINT64_MAX;   /* no block before the first */
    for (size_t i = 0; i < rd->ids.n; i++) {
        if (dp_tr_intern(&rd->chain, prev, rd->ids.v[i], &rd->ids.v[i]) != 0)
            return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
        prev = rd->ids.v[i];
    }
    return 0;
}

static int read_row(void *ctx, const struct dp_tr_at *at, json_t *rec)
{
    struct reader *rd = ctx;
    int64_t chat, parent, turn;
    uint64_t ts = 0, input = 0, output = 0, first;
    int rc;
    if ((rc = read_id(at, json_object_get(rec, "chat_id"), "chat_id", 0, &chat)) ||
        (rc = read_id(at, json_object_get(rec, "parent_chat_id"), "parent_chat_id", -1,
                      &parent)) ||
        (rc = read_seconds(at, json_object_get(rec, "timestamp"), &ts)) ||
        (rc = dp_tr_uint(at, json_object_get(rec, "input_length"), "input_length", 1,
                         UINT32_MAX, &input)) ||
        (rc = dp_tr_uint(at, json_object_get(rec, "output_length"), "output_length", 0,
                         UINT32_MAX, &output)))
        return rc;
    if (parent == chat)
        return dp_tr_fail(at, "parent_chat_id", "%" PRId64 " is the request's own chat_id "
                          "(a request cannot follow itself)", parent);
    const json_t *type = json_object_get(rec, "type");
    if (type && !json_is_string(type))
        return dp_tr_fail(at, "type", "must be a string (text, search, image, file), got %s",
                          dp_tr_json_type(type));
    const json_t *t = json_object_get(rec, "turn");
    if (t && (rc = read_id(at, t, "turn", 0, &turn)))
        return rc;
    if (dp_u64map_get(&rd->chat_row, (uint64_t)chat, &first))
        return dp_tr_fail(at, "chat_id", "duplicate id %" PRId64 " (first on line %lu)", chat,
                          rd->dag.rows[first].line);
    if ((rc = dp_tr_read_ids(at, json_object_get(rec, "hash_ids"), "hash_ids", &rd->ids)) ||
        (rc = dp_tr_check_hash_count(at, rd->ids.n, input, rd->hash_tokens,
                                     rd->hash_tokens == BAILIAN_HASH_TOKENS
                                         ? "the published traces hash 16-token blocks"
                                         : "--hash-block")) ||
        (rc = chain_ids(rd, at)))
        return rc;
    struct dp_tr_row row = {0};
    row.line = at->line;
    row.ts_ns = ts;
    row.has_ts = 1;
    row.input = (uint32_t)input;
    row.output = (uint32_t)output;
    row.gap_ns = DP_TR_GAP_FROM_TS;
    row.n_hash = (uint32_t)rd->ids.n;
    char name[32];
    snprintf(name, sizeof name, "%" PRId64, chat);
    long idx = dp_tr_dag_add(&rd->dag, &row, rd->ids.v, name);
    if (idx < 0 || dp_u64map_put(&rd->chat_row, (uint64_t)chat, (uint64_t)idx) != 0)
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    if (DP_GROW(rd->parent, rd->cap_parent, (size_t)idx + 1, 1024))
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    rd->parent[idx] = parent;
    return 0;
}

/* Every parent_chat_id must name a request of the file. */
static int link_parents(struct reader *rd, const char *path, struct dp_err *err)
{
    for (size_t r = 0; r < rd->dag.n; r++) {
        uint64_t p;
        if (rd->parent[r] < 0)
            continue;
        if (!dp_u64map_get(&rd->chat_row, (uint64_t)rd->parent[r], &p)) {
            struct dp_tr_at at = {path, rd->dag.rows[r].line, err};
            return dp_tr_fail(&at, "parent_chat_id",
                              "chat %" PRId64 " is not in the file (its parent request is "
                              "missing; a first request has parent_chat_id -1)",
                              rd->parent[r]);
        }
        if (dp_tr_dag_dep(&rd->dag, r, (size_t)p) != 0)
            return dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
    }
    return 0;
}

int dp_bailian_load(const char *path, uint32_t hash_tokens, struct dp_workload *w,
                    struct dp_err *err)
{
    dp_workload_init(w, hash_tokens ? hash_tokens : BAILIAN_HASH_TOKENS);
    dp_tr_set_source(w, path);
    w->hash_tokens = w->block_tokens;
    struct reader rd;
    memset(&rd, 0, sizeof rd);
    rd.hash_tokens = w->hash_tokens;
    dp_tr_dag_init(&rd.dag);
    int rc = 0;
    if (dp_u64map_init(&rd.chat_row, 1024, 1) || dp_tr_intern_init(&rd.chain, 4096))
        rc = dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
    if (rc == 0)
        rc = dp_tr_each_record(path, read_row, &rd, err);
    if (rc == 0)
        rc = link_parents(&rd, path, err);
    if (rc == 0)
        rc = dp_tr_dag_build(&rd.dag, path, "parent_chat_id", w, err);
    if (rc == 0 && dp_tr_sort_sessions(w) != 0)
        rc = dp_err_set(err, DP_ENOMEM, "%s: out of memory sorting sessions", path);
    dp_tr_dag_free(&rd.dag);
    dp_u64map_free(&rd.chat_row);
    dp_tr_intern_free(&rd.chain);
    free(rd.parent);
    free(rd.ids.v);
    if (rc)
        dp_workload_free(w);
    return rc;
}
