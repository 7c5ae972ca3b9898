/* Dynamo agentic Mooncake reader (traces/README.md, "Dynamo agentic rows").
 *
 * One LLM request a line, as NVIDIA Dynamo's request-trace converter writes
 * its AgenticMooncakeRow: {"request_id": "r2", "session_id": "traj-a",
 * "input_length": 4096, "output_length": 80, "hash_ids": [...],
 * "timestamp": 1200.0, "delay": 3.0, "tool_wait_ms": 7.0, "wait_for":
 * ["r1"], "branches": ["r3"], "prefix_reset": false}. A row is eligible when
 * every request named in wait_for has completed, and is then issued after
 * delay + tool_wait_ms; a row that waits for nothing starts at its
 * timestamp (ms). branches names the first requests of the sub-agents this
 * row spawns: each of them waits for this row (added when the child's
 * wait_for lacks it). Rows linked by dependencies or sharing a session_id
 * form one DAG session (traces/dag.c).
 *
 * hash_ids are Dynamo's sequence-aware (chained) block hashes, one per
 * block plus one for a trailing partial block; the file does not say the
 * block size (the converter prints it), so it is given (--hash-block) or
 * inferred: the smallest usual engine block size B with
 * len(hash_ids) == ceil(input_length / B) on every row. */
#include "traces/trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace_internal.h"

/* Block sizes tried when the trace's is not given: the engine block sizes
 * Dynamo's replay tests cover (16..96) and the powers of two up to the
 * Mooncake block and beyond. */
static const uint32_t candidates[] = {16, 32, 48, 64, 96, 128, 256, 512, 1024};
#define N_CAND (sizeof candidates / sizeof candidates[0])

/* A row's names, resolved to row indices once the file is read. */
struct pending {
    size_t row;
    size_t off, n;       /* into the string store */
    int branch;          /* 1: branches (the named rows wait for this one) */
};

struct reader {
    struct dp_tr_dag dag;
    struct dp_u64map id_row;       /* hash of request_id -> row (names compared) */
    struct dp_u64map session;      /* hash of session_id -> first row */
    struct dp_tr_ids ids;
    char *strs;                    /* wait_for / branches names, NUL-separated */
    size_t n_strs, cap_strs;
    struct pending *pend;
    size_t n_pend, cap_pend;
    uint32_t hash_tokens;          /* given; 0: infer */
    unsigned long killed_line[N_CAND];   /* first row each candidate does not fit */
};

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Row of a request id, or -1. Ids are unique, so a map from the hash with
 * linear probing on collision (key + 1) finds it exactly. */
static long find_row(const struct reader *rd, const char *id)
{
    uint64_t key = str_hash(id), row;
    while (dp_u64map_get(&rd->id_row, key, &row)) {
        if (!strcmp(rd->dag.names + rd->dag.rows[row].name_off, id))
            return (long)row;
        key++;
    }
    return -1;
}

static int put_row(struct reader *rd, const char *id, size_t row)
{
    uint64_t key = str_hash(id), other;
    while (dp_u64map_get(&rd->id_row, key, &other))
        key++;
    return dp_u64map_put(&rd->id_row, key, row);
}

/* A field under its name or the upstream alias Dynamo also accepts. */
static const json_t *get2(const json_t *rec, const char *name, const char *alias,
                          const char **used)
{
    const json_t *v = json_object_get(rec, name);
    *used = name;
    if (!v && alias && (v = json_object_get(rec, alias)))
        *used = alias;
    return v;
}

/* Optional milliseconds (integer or real >= 0); absent reads as 0. */
static int opt_ms(const struct dp_tr_at *at, const json_t *rec, const char *name,
                  const char *alias, uint64_t *ns, int *present)
{
    const char *label;
    const json_t *v = get2(rec, name, alias, &label);
    *ns = 0;
    if (present)
        *present = v && !json_is_null(v);
    if (!v || json_is_null(v))
        return 0;
    return dp_tr_ms(at, v, label, ns);
}

/* wait_for / branches: arrays of request-id strings, kept for later. */
static int read_names(struct reader *rd, const struct dp_tr_at *at, const json_t *rec,
                      const char *field, size_t row, int branch)
{
    const json_t *arr = json_object_get(rec, field);
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return dp_tr_fail(at, field, "must be an array of request ids (strings), got %s",
                          dp_tr_json_type(arr));
    size_t n = json_array_size(arr), off = rd->n_strs;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_string(e))
            return dp_tr_fail(at, field, "element %zu must be a request id (string), got %s", i,
                              dp_tr_json_type(e));
        const char *s = json_string_value(e);
        size_t len = strlen(s) + 1;
        if (len != json_string_length(e) + 1)
            return dp_tr_fail(at, field, "element %zu holds a NUL character", i);
        if (DP_GROW(rd->strs, rd->cap_strs, rd->n_strs + len, 256))
            return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
        memcpy(rd->strs + rd->n_strs, s, len);
        rd->n_strs += len;
    }
    if (n == 0)
        return 0;
    if (DP_GROW(rd->pend, rd->cap_pend, rd->n_pend + 1, 256))
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    rd->pend[rd->n_pend++] = (struct pending){row, off, n, branch};
    return 0;
}

/* Rules out the block sizes this row's id count does not fit. */
static void infer_step(struct reader *rd, unsigned long line, uint64_t input, size_t n)
{
    if (n == 0)
        return;
    for (size_t c = 0; c < N_CAND; c++)
        if (!rd->killed_line[c] && (input + candidates[c] - 1) / candidates[c] != n)
            rd->killed_line[c] = line;
}

static int read_row(void *ctx, const struct dp_tr_at *at, json_t *rec)
{
    struct reader *rd = ctx;
    const char *label;
    const json_t *v = json_object_get(rec, "request_id");
    if (!v) {
        if (json_object_get(rec, "schema"))
            return dp_tr_fail(at, NULL, "a versioned agentic header (schema, version, "
                              "block_size): this reader takes the rows with wait_for, "
                              "branches, delay, tool_wait_ms and prefix_reset");
        return dp_tr_fail(at, "request_id", "missing");
    }
    if (!json_is_string(v))
        return dp_tr_fail(at, "request_id", "must be a string, got %s", dp_tr_json_type(v));
    const char *id = json_string_value(v);
    if (strlen(id) != json_string_length(v))
        return dp_tr_fail(at, "request_id", "holds a NUL character");
    long dup = find_row(rd, id);
    if (dup >= 0)
        return dp_tr_fail(at, "request_id", "duplicate id '%.60s' (first on line %lu)", id,
                          rd->dag.rows[dup].line);
    uint64_t input, output, delay, tool;
    struct dp_tr_row row = {0};
    int rc;
    v = get2(rec, "input_length", "input_tokens", &label);
    if ((rc = dp_tr_uint(at, v, label, 1, UINT32_MAX, &input)))
        return rc;
    v = get2(rec, "output_length", "output_tokens", &label);
    if ((rc = dp_tr_uint(at, v, label, 0, UINT32_MAX, &output)))
        return rc;
    if ((rc = opt_ms(at, rec, "timestamp", "created_time", &row.ts_ns, &row.has_ts)) ||
        (rc = opt_ms(at, rec, "delay", "delay_ms", &delay, NULL)) ||
        (rc = opt_ms(at, rec, "tool_wait_ms", NULL, &tool, NULL)))
        return rc;
    v = json_object_get(rec, "prefix_reset");
    if (v && !json_is_null(v) && !json_is_boolean(v))
        return dp_tr_fail(at, "prefix_reset", "must be true or false, got %s",
                          dp_tr_json_type(v));
    v = json_object_get(rec, "session_id");
    if (v && !json_is_null(v) && !json_is_string(v))
        return dp_tr_fail(at, "session_id", "must be a string, got %s", dp_tr_json_type(v));
    if ((rc = dp_tr_read_ids(at, json_object_get(rec, "hash_ids"), "hash_ids", &rd->ids)))
        return rc;
    if (rd->hash_tokens &&
        (rc = dp_tr_check_hash_count(at, rd->ids.n, input, rd->hash_tokens, "--hash-block")))
        return rc;
    if (!rd->hash_tokens)
        infer_step(rd, at->line, input, rd->ids.n);
    row.line = at->line;
    row.input = (uint32_t)input;
    row.output = (uint32_t)output;
    row.gap_ns = delay + tool;
    row.tool_ns = tool;
    row.flags = json_is_true(json_object_get(rec, "prefix_reset")) ? DP_TURN_RESET : 0;
    row.n_hash = (uint32_t)rd->ids.n;
    long idx = dp_tr_dag_add(&rd->dag, &row, rd->ids.v, id);
    if (idx < 0 || put_row(rd, id, (size_t)idx) != 0)
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    v = json_object_get(rec, "session_id");
    if (json_is_string(v)) {
        uint64_t key = str_hash(json_string_value(v)), first;
        /* a hash collision between two session ids merges them: harmless,
         * sessions only group requests for statistics */
        if (dp_u64map_get(&rd->session, key, &first)) {
            if (dp_tr_dag_same(&rd->dag, (size_t)idx, (size_t)first))
                return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path,
                                  at->line);
        } else if (dp_u64map_put(&rd->session, key, (uint64_t)idx)) {
            return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
        }
    }
    if ((rc = read_names(rd, at, rec, "wait_for", (size_t)idx, 0)) ||
        (rc = read_names(rd, at, rec, "branches", (size_t)idx, 1)))
        return rc;
    return 0;
}

/* wait_for and branches name requests of the file. */
static int link_rows(struct reader *rd, const char *path, struct dp_err *err)
{
    for (size_t p = 0; p < rd->n_pend; p++) {
        const struct pending *q = &rd->pend[p];
        const char *s = rd->strs + q->off;
        for (size_t i = 0; i < q->n; i++, s += strlen(s) + 1) {
            long other = find_row(rd, s);
            const char *field = q->branch ? "branches" : "wait_for";
            struct dp_tr_at at = {path, rd->dag.rows[q->row].line, err};
            if (other < 0)
                return dp_tr_fail(&at, field, "request '%.60s' is not in the file", s);
            size_t row = q->branch ? (size_t)other : q->row;
            size_t dep = q->branch ? q->row : (size_t)other;
            if (row == dep)
                return dp_tr_fail(&at, field, "cycle: '%.60s' waits for itself", s);
            if (dp_tr_dag_dep(&rd->dag, row, dep))
                return dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
        }
    }
    return 0;
}

/* The trace's block size: given, or the smallest candidate every row fits. */
static int block_size(struct reader *rd, const char *path, struct dp_err *err, uint32_t *out)
{
    if (rd->hash_tokens) {
        *out = rd->hash_tokens;
        return 0;
    }
    unsigned long last = 0;
    for (size_t c = 0; c < N_CAND; c++) {
        if (!rd->killed_line[c]) {
            *out = candidates[c];
            return 0;
        }
        if (rd->killed_line[c] > last)
            last = rd->killed_line[c];
    }
    if (last == 0) {   /* no row has hash ids: nothing to infer */
        *out = 0;
        return 0;
    }
    return dp_err_set(err, DP_EINVAL,
                      "%s:%lu: field 'hash_ids': the rows fit no block size of 16..1024 tokens "
                      "(this row rules out the last: Dynamo writes ceil(input_length / B) ids); "
                      "give the converter's trace_block_size with --hash-block N",
                      path, last);
}

int dp_agentic_load(const char *path, uint32_t hash_tokens, struct dp_workload *w,
                    struct dp_err *err)
{
    dp_workload_init(w, DP_TRACE_BLOCK_TOKENS);
    dp_tr_set_source(w, path);
    struct reader rd;
    memset(&rd, 0, sizeof rd);
    rd.hash_tokens = hash_tokens;
    dp_tr_dag_init(&rd.dag);
    int rc = 0;
    if (dp_u64map_init(&rd.id_row, 1024, 1) || dp_u64map_init(&rd.session, 1024, 1))
        rc = dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
    if (rc == 0)
        rc = dp_tr_each_record(path, read_row, &rd, err);
    uint32_t bt = 0;
    if (rc == 0)
        rc = block_size(&rd, path, err, &bt);
    if (rc == 0)
        rc = link_rows(&rd, path, err);
    if (rc == 0)
        rc = dp_tr_dag_build(&rd.dag, path, "wait_for", w, err);
    if (rc == 0 && dp_tr_sort_sessions(w) != 0)
        rc = dp_err_set(err, DP_ENOMEM, "%s: out of memory sorting sessions", path);
    if (rc == 0 && bt) {
        w->block_tokens = bt;
        w->hash_tokens = bt;
    }
    dp_tr_dag_free(&rd.dag);
    dp_u64map_free(&rd.id_row);
    dp_u64map_free(&rd.session);
    free(rd.ids.v);
    free(rd.strs);
    free(rd.pend);
    if (rc)
        dp_workload_free(w);
    return rc;
}
