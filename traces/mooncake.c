/* Mooncake JSONL reader (traces/README.md, "Mooncake format").
 *
 * One request a line: {"timestamp": ms, "input_length": n, "output_length": m,
 * "hash_ids": [ids of the prompt's 512-token prefix blocks]}. Every request
 * becomes an open-loop session of one turn. Unknown fields are ignored: the
 * Mooncake repository's traces (synthetic, conversation, tool-agent, the
 * older mooncake_trace.jsonl) share these four fields and may grow others. */
#include "traces/trace.h"

#include <stdlib.h>
#include <string.h>

#include "traces/trace_internal.h"

/* Scratch buffer for one record's hash ids, reused across lines. */
struct hash_buf {
    uint64_t *ids;
    size_t cap;
};

static int hash_buf_reserve(struct hash_buf *b, size_t n)
{
    uint64_t *p = dp_grow(b->ids, &b->cap, n, sizeof *p, 64);
    if (!p)
        return DP_ENOMEM;
    b->ids = p;
    return 0;
}

static int read_hash_ids(const struct dp_tr_at *at, const json_t *arr, uint64_t input,
                         struct hash_buf *b, uint32_t *n_out)
{
    if (!arr)
        return dp_tr_fail(at, "hash_ids", "missing");
    if (!json_is_array(arr))
        return dp_tr_fail(at, "hash_ids", "must be an array of integers, got %s",
                          dp_tr_json_type(arr));
    size_t n = json_array_size(arr);
    /* A prompt of input tokens spans ceil(input / 512) blocks; fewer ids is
     * fine (only a prefix is named), more cannot describe this prompt. */
    uint64_t max_blocks = (input + DP_TRACE_BLOCK_TOKENS - 1) / DP_TRACE_BLOCK_TOKENS;
    if (n > max_blocks)
        return dp_tr_fail(at, "hash_ids",
                          "%zu ids for input_length %llu (at most %llu blocks of %u tokens)", n,
                          (unsigned long long)input, (unsigned long long)max_blocks,
                          DP_TRACE_BLOCK_TOKENS);
    if (hash_buf_reserve(b, n) != 0)
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_integer(e))
            return dp_tr_fail(at, "hash_ids", "element %zu must be an integer, got %s", i,
                              dp_tr_json_type(e));
        json_int_t x = json_integer_value(e);
        if (x < 0)
            return dp_tr_fail(at, "hash_ids", "element %zu must be >= 0, got %lld", i,
                              (long long)x);
        b->ids[i] = (uint64_t)x;
    }
    *n_out = (uint32_t)n;
    return 0;
}

/* Validates one record and appends it as a one-turn open-loop session. */
static int add_record(const struct dp_tr_at *at, const json_t *rec, struct hash_buf *b,
                      uint64_t index, struct dp_workload *w)
{
    uint64_t start_ns, input, output;
    int rc;
    if ((rc = dp_tr_ms(at, json_object_get(rec, "timestamp"), "timestamp", &start_ns)) ||
        (rc = dp_tr_uint(at, json_object_get(rec, "input_length"), "input_length", 1,
                         UINT32_MAX, &input)) ||
        (rc = dp_tr_uint(at, json_object_get(rec, "output_length"), "output_length", 0,
                         UINT32_MAX, &output)))
        return rc;
    struct dp_turn t = {0};
    if ((rc = read_hash_ids(at, json_object_get(rec, "hash_ids"), input, b, &t.n_hash)))
        return rc;
    t.input_tokens = (uint32_t)input;
    t.append_tokens = (uint32_t)input;   /* the whole prompt is new to the request */
    t.output_tokens = (uint32_t)output;
    t.hash_ids = t.n_hash ? b->ids : NULL;
    struct dp_session *s = dp_workload_add(w, start_ns, 1, &t, 1);
    if (!s)
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    s->id = index;
    return 0;
}

/* ------------------------------------------------------------ fast path
 *
 * json_loadb builds one json_t (one malloc) per array element; on a trace of
 * 1M lines of ~30 hash ids that is ~8 s of a ~9 s load. The fast path parses
 * only the plain shape the Mooncake traces use: one object on the line, keys
 * without escapes, non-negative integers of at most 18 digits, the four known
 * keys exactly once each and nothing else. It accepts nothing that json_loadb
 * rejects or reads differently, and it only ever adds valid records: a line it
 * does not recognize, or a record that would fail a check, goes through
 * json_loadb and add_record, the reference that also writes the message. */

static int fast_enabled = 1;

void dp_tr_mooncake_set_fast(int on)
{
    fast_enabled = on;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A JSON integer jansson reads as the same non-negative int64. */
static const char *fast_uint(const char *p, uint64_t *v)
{
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return NULL;
    uint64_t x = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > 18)
            return NULL;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.' || *p == 'e' || *p == 'E')   /* a real: leave it to jansson */
        return NULL;
    *v = x;
    return p;
}

static const char *fast_ids(const char *p, struct hash_buf *b, uint32_t *n_out)
{
    size_t n = 0;
    p = skip_ws(p + 1);   /* past '[' */
    if (*p != ']') {
        for (;;) {
            if (n == b->cap && hash_buf_reserve(b, n + 1) != 0)
                return NULL;
            if (!(p = fast_uint(p, &b->ids[n++])))
                return NULL;
            p = skip_ws(p);
            if (*p == ']')
                break;
            if (*p != ',' || n >= UINT32_MAX)
                return NULL;
            p = skip_ws(p + 1);
        }
    }
    *n_out = (uint32_t)n;
    return p + 1;
}

enum { F_TS = 1, F_IN = 2, F_OUT = 4, F_HASH = 8, F_ALL = 15 };

static int fast_key(const char *k, size_t n)
{
    if (n == 9 && memcmp(k, "timestamp", 9) == 0)
        return F_TS;
    if (n == 12 && memcmp(k, "input_length", 12) == 0)
        return F_IN;
    if (n == 13 && memcmp(k, "output_length", 13) == 0)
        return F_OUT;
    if (n == 8 && memcmp(k, "hash_ids", 8) == 0)
        return F_HASH;
    return 0;
}

/* 1 when the line was a plain valid record and was added; 0 to fall back. */
static int fast_record(const struct dp_tr_lines *r, struct hash_buf *b, uint64_t index,
                       struct dp_workload *w)
{
    const char *p = skip_ws(r->buf), *end = r->buf + r->len;
    uint64_t ts = 0, in = 0, out = 0;
    struct dp_turn t = {0};
    int seen = 0;
    if (*p++ != '{')
        return 0;
    for (;;) {
        p = skip_ws(p);
        if (*p++ != '"')
            return 0;
        const char *k = p;
        while ((*p >= 'a' && *p <= 'z') || *p == '_')
            p++;
        int f = fast_key(k, (size_t)(p - k));
        if (*p++ != '"' || !f || (seen & f))
            return 0;
        seen |= f;
        p = skip_ws(p);
        if (*p++ != ':')
            return 0;
        p = skip_ws(p);
        if (f == F_HASH)
            p = *p == '[' ? fast_ids(p, b, &t.n_hash) : NULL;
        else
            p = fast_uint(p, f == F_TS ? &ts : f == F_IN ? &in : &out);
        if (!p)
            return 0;
        p = skip_ws(p);
        if (*p == '}')
            break;
        if (*p++ != ',')
            return 0;
    }
    p = skip_ws(p + 1);
    if (p != end || seen != F_ALL)
        return 0;
    /* The same checks as add_record; a failure is reported by that path. */
    uint64_t max_blocks = (in + DP_TRACE_BLOCK_TOKENS - 1) / DP_TRACE_BLOCK_TOKENS;
    if ((double)ts > DP_TRACE_MAX_MS || in < 1 || in > UINT32_MAX || out > UINT32_MAX ||
        t.n_hash > max_blocks)
        return 0;
    t.input_tokens = (uint32_t)in;
    t.append_tokens = (uint32_t)in;
    t.output_tokens = (uint32_t)out;
    t.hash_ids = t.n_hash ? b->ids : NULL;
    struct dp_session *s = dp_workload_add(w, ts * 1000000u, 1, &t, 1);
    if (!s)
        return 0;   /* the slow path reports the allocation failure */
    s->id = index;
    return 1;
}

int dp_mooncake_load(const char *path, struct dp_workload *w, struct dp_err *err)
{
    dp_workload_init(w, DP_TRACE_BLOCK_TOKENS);
    dp_tr_set_source(w, path);
    w->hash_tokens = DP_TRACE_BLOCK_TOKENS;
    struct dp_tr_lines lines;
    int rc = dp_tr_lines_open(&lines, path, err);
    if (rc)
        return rc;
    struct hash_buf b = {0};
    uint64_t index = 0;
    while ((rc = dp_tr_lines_next(&lines, err)) == 1) {
        if (fast_enabled && fast_record(&lines, &b, index, w)) {
            index++;
            continue;
        }
        json_t *rec;
        if ((rc = dp_tr_parse_line(&lines, &rec, err)))
            break;
        struct dp_tr_at at = {path, lines.lineno, err};
        rc = add_record(&at, rec, &b, index++, w);
        json_decref(rec);
        if (rc)
            break;
    }
    if (rc == 0 && w->n_sessions == 0)
        rc = dp_err_set(err, DP_EINVAL, "%s: empty trace: no records (%lu lines)", path,
                        lines.lineno);
    if (rc == 0 && dp_tr_sort_sessions(w) != 0)
        rc = dp_err_set(err, DP_ENOMEM, "%s: out of memory sorting requests", path);
    free(b.ids);
    dp_tr_lines_close(&lines);
    if (rc) {
        dp_workload_free(w);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------------- writer */

static int write_requests(FILE *f, const void *ctx)
{
    const struct dp_workload *w = ctx;
    char ts[32];
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_turn *t = &w->sessions[i].turns[0];
        dp_tr_fmt_ms(ts, sizeof ts, w->sessions[i].start_ns);
        fprintf(f, "{\"timestamp\": %s, \"input_length\": %u, \"output_length\": %u, "
                   "\"hash_ids\": [", ts, t->input_tokens, t->output_tokens);
        for (uint32_t j = 0; j < t->n_hash; j++)
            fprintf(f, j ? ", %llu" : "%llu", (unsigned long long)t->hash_ids[j]);
        if (fputs("]}\n", f) == EOF)
            return -1;
    }
    return 0;
}

int dp_mooncake_write(const char *path, const struct dp_workload *w, struct dp_err *err)
{
    if (w->n_sessions == 0)
        return dp_err_set(err, DP_EINVAL,
                          "%s: no requests to write (an empty file is not a valid trace)", path);
    if (w->hash_tokens != DP_TRACE_BLOCK_TOKENS)
        return dp_err_set(err, DP_EINVAL, "%s: hash ids of %u tokens: Mooncake traces name "
                          "512-token blocks (dp_workload_rebloc first)", path, w->hash_tokens);
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (!s->open_loop || s->n_turns != 1 || s->turns[0].input_tokens == 0 ||
            (s->turns[0].n_hash && !s->turns[0].hash_ids))
            return dp_err_set(err, DP_EINVAL, "%s: session %llu is not one timestamped request "
                              "with hash ids (dp_workload_open_loop first)", path,
                              (unsigned long long)s->id);
        for (uint32_t j = 0; j < s->turns[0].n_hash; j++)
            if (s->turns[0].hash_ids[j] > INT64_MAX)
                return dp_err_set(err, DP_EINVAL, "%s: hash id above 2^63-1", path);
    }
    return dp_tr_write_atomic(path, write_requests, w, err);
}
