/* DualPath agent-session JSONL (traces/README.md, "Sessions format"): reader,
 * writer, and dp_trace_load's format detection.
 *
 * One closed-loop session a line:
 *   {"session": 7, "start_ms": 0, "turns": [{"append": 8000, "output": 120,
 *    "think_ms": 0}, {"append": 350, "output": 80, "think_ms": 1500}]}
 * It is our own format, so unknown keys are errors (a typo must not be
 * silently ignored), unlike the Mooncake reader. */
#include "traces/trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace_internal.h"

/* ------------------------------------------------------------- reader */

struct turn_buf {
    struct dp_turn *t;
    size_t cap;
};

static int turn_buf_reserve(struct turn_buf *b, size_t n)
{
    struct dp_turn *p = dp_grow(b->t, &b->cap, n, sizeof *p, 256);
    if (!p)
        return DP_ENOMEM;
    b->t = p;
    return 0;
}

/* Names the first key of obj not in allowed (NULL-terminated). */
static int check_keys(const struct dp_tr_at *at, json_t *obj, const char *prefix,
                      const char *const *allowed, const char *expected)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(key, *a) == 0)
                ok = 1;
        if (!ok) {
            char label[160];
            snprintf(label, sizeof label, "%s%s", prefix, key);
            return dp_tr_fail(at, label, "unknown key (expected %s)", expected);
        }
    }
    return 0;
}

static int read_turn(const struct dp_tr_at *at, json_t *t, size_t k, struct dp_turn *out)
{
    static const char *const keys[] = {"append", "output", "think_ms", NULL};
    char label[64];
    snprintf(label, sizeof label, "turns[%zu]", k);
    if (!json_is_object(t))
        return dp_tr_fail(at, label, "must be an object, got %s", dp_tr_json_type(t));
    char prefix[48];
    snprintf(prefix, sizeof prefix, "turns[%zu].", k);
    int rc = check_keys(at, t, prefix, keys, "append, output, think_ms");
    if (rc)
        return rc;
    uint64_t append, output, think_ns = 0;
    snprintf(label, sizeof label, "turns[%zu].append", k);
    if ((rc = dp_tr_uint(at, json_object_get(t, "append"), label, 1, UINT32_MAX, &append)))
        return rc;
    snprintf(label, sizeof label, "turns[%zu].output", k);
    if ((rc = dp_tr_uint(at, json_object_get(t, "output"), label, 0, UINT32_MAX, &output)))
        return rc;
    /* think_ms is the gap before a turn; the first turn has none, so there
     * it may be omitted and is ignored when given (still type-checked). */
    json_t *think = json_object_get(t, "think_ms");
    snprintf(label, sizeof label, "turns[%zu].think_ms", k);
    if ((think || k > 0) && (rc = dp_tr_ms(at, think, label, &think_ns)))
        return rc;
    memset(out, 0, sizeof *out);
    out->append_tokens = (uint32_t)append;
    out->output_tokens = (uint32_t)output;
    out->think_ns = k == 0 ? 0 : think_ns;
    return 0;
}

static int read_session(const struct dp_tr_at *at, json_t *rec, struct turn_buf *b,
                        struct dp_u64map *ids, struct dp_workload *w)
{
    static const char *const keys[] = {"session", "start_ms", "turns", NULL};
    int rc = check_keys(at, rec, "", keys, "session, start_ms, turns");
    if (rc)
        return rc;
    uint64_t id, start_ns, first_line;
    /* jansson integers are int64: ids above INT64_MAX cannot be read back. */
    if ((rc = dp_tr_uint(at, json_object_get(rec, "session"), "session", 0, INT64_MAX, &id)))
        return rc;
    if (dp_u64map_get(ids, id, &first_line))
        return dp_tr_fail(at, "session", "duplicate id %" PRIu64 " (first on line %" PRIu64 ")",
                          id, first_line);
    if ((rc = dp_tr_ms(at, json_object_get(rec, "start_ms"), "start_ms", &start_ns)))
        return rc;
    json_t *turns = json_object_get(rec, "turns");
    if (!turns)
        return dp_tr_fail(at, "turns", "missing");
    if (!json_is_array(turns))
        return dp_tr_fail(at, "turns", "must be an array of turn objects, got %s",
                          dp_tr_json_type(turns));
    size_t n = json_array_size(turns);
    if (n == 0)
        return dp_tr_fail(at, "turns", "must hold at least one turn");
    if (n > UINT32_MAX)
        return dp_tr_fail(at, "turns", "more than %u turns", (unsigned)UINT32_MAX);
    if (turn_buf_reserve(b, n) != 0)
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    for (size_t k = 0; k < n; k++)
        if ((rc = read_turn(at, json_array_get(turns, k), k, &b->t[k])))
            return rc;
    struct dp_session *s = dp_workload_add(w, start_ns, 0, b->t, (uint32_t)n);
    if (!s || dp_u64map_put(ids, id, at->line) != 0)
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    s->id = id;
    return 0;
}

int dp_sessions_load(const char *path, struct dp_workload *w, struct dp_err *err)
{
    dp_workload_init(w, DP_TRACE_BLOCK_TOKENS);
    dp_tr_set_source(w, path);
    struct dp_tr_lines lines;
    int rc = dp_tr_lines_open(&lines, path, err);
    if (rc)
        return rc;
    struct turn_buf b = {0};
    struct dp_u64map ids;
    if (dp_u64map_init(&ids, 1024, 1) != 0) {
        dp_tr_lines_close(&lines);
        return dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
    }
    while ((rc = dp_tr_lines_next(&lines, err)) == 1) {
        json_t *rec;
        if ((rc = dp_tr_parse_line(&lines, &rec, err)))
            break;
        struct dp_tr_at at = {path, lines.lineno, err};
        rc = read_session(&at, rec, &b, &ids, w);
        json_decref(rec);
        if (rc)
            break;
    }
    if (rc == 0 && w->n_sessions == 0)
        rc = dp_err_set(err, DP_EINVAL, "%s: empty trace: no sessions (%lu lines)", path,
                        lines.lineno);
    if (rc == 0 && dp_tr_sort_sessions(w) != 0)
        rc = dp_err_set(err, DP_ENOMEM, "%s: out of memory sorting sessions", path);
    free(b.t);
    dp_u64map_free(&ids);
    dp_tr_lines_close(&lines);
    if (rc) {
        dp_workload_free(w);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------------- writer */

/* Everything the reader would reject is refused before a byte is written. */
static int check_writable(const char *path, const struct dp_workload *w, struct dp_err *err)
{
    if (w->n_sessions == 0)
        return dp_err_set(err, DP_EINVAL,
                          "%s: no sessions to write (an empty file is not a valid trace)", path);
    struct dp_u64map ids;
    if (dp_u64map_init(&ids, w->n_sessions, 0) != 0)
        return dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
    int rc = 0;
    for (size_t i = 0; i < w->n_sessions && rc == 0; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (s->open_loop)
            rc = dp_err_set(err, DP_EINVAL,
                            "%s: session %" PRIu64 " is open-loop (a timestamped request); "
                            "the sessions format holds closed-loop sessions only",
                            path, s->id);
        else if (s->id > INT64_MAX)
            rc = dp_err_set(err, DP_EINVAL, "%s: session id %" PRIu64 " above %" PRId64, path,
                            s->id, INT64_MAX);
        else if (s->n_turns == 0)
            rc = dp_err_set(err, DP_EINVAL, "%s: session %" PRIu64 " has no turns", path,
                            s->id);
        else if (dp_u64map_get(&ids, s->id, NULL))
            rc = dp_err_set(err, DP_EINVAL, "%s: session id %" PRIu64 " appears twice", path,
                            s->id);
        else if (dp_u64map_put(&ids, s->id, 0) != 0)
            rc = dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
        for (uint32_t k = 0; k < s->n_turns && rc == 0; k++)
            if (s->turns[k].append_tokens == 0)
                rc = dp_err_set(err, DP_EINVAL,
                                "%s: session %" PRIu64 " turn %u: append_tokens is 0 "
                                "(the format needs > 0)", path, s->id, k);
    }
    dp_u64map_free(&ids);
    return rc;
}

static int write_sessions(FILE *f, const void *ctx)
{
    const struct dp_workload *w = ctx;
    char start[32], think[32];
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        dp_tr_fmt_ms(start, sizeof start, s->start_ns);
        fprintf(f, "{\"session\": %" PRIu64 ", \"start_ms\": %s, \"turns\": [", s->id, start);
        for (uint32_t k = 0; k < s->n_turns; k++) {
            const struct dp_turn *t = &s->turns[k];
            dp_tr_fmt_ms(think, sizeof think, k == 0 ? 0 : t->think_ns);
            fprintf(f, "%s{\"append\": %" PRIu32 ", \"output\": %" PRIu32 ", \"think_ms\": %s}",
                    k ? ", " : "", t->append_tokens, t->output_tokens, think);
        }
        if (fputs("]}\n", f) == EOF)
            return -1;
    }
    return 0;
}

int dp_sessions_write(const char *path, const struct dp_workload *w, struct dp_err *err)
{
    int rc = check_writable(path, w, err);
    if (rc)
        return rc;
    return dp_tr_write_atomic(path, write_sessions, w, err);
}

/* ------------------------------------------------------------ detect */

const char *const dp_trace_format_names[] = {"auto", "mooncake", "sessions", "bailian",
                                              "agentic", NULL};

/* Looks at the first non-blank line's field names: "turns" means sessions,
 * "chat_id" Qwen-Bailian, "request_id" (or a versioned agentic header,
 * "schema") Dynamo agentic rows, "input_length" Mooncake. */
static int detect(const char *path, enum dp_trace_format *fmt, struct dp_err *err)
{
    struct dp_tr_lines lines;
    int rc = dp_tr_lines_open(&lines, path, err);
    if (rc)
        return rc;
    rc = dp_tr_lines_next(&lines, err);
    if (rc == 0)
        rc = dp_err_set(err, DP_EINVAL, "%s: empty trace: no records (%lu lines)", path,
                        lines.lineno);
    json_t *rec = NULL;
    if (rc == 1 && (rc = dp_tr_parse_line(&lines, &rec, err)) == 0) {
        if (json_object_get(rec, "turns"))
            *fmt = DP_TRACE_SESSIONS;
        else if (json_object_get(rec, "chat_id") || json_object_get(rec, "parent_chat_id"))
            *fmt = DP_TRACE_BAILIAN;
        else if (json_object_get(rec, "request_id") || json_object_get(rec, "wait_for") ||
                 json_object_get(rec, "schema"))
            *fmt = DP_TRACE_AGENTIC;
        else if (json_object_get(rec, "input_length"))
            *fmt = DP_TRACE_MOONCAKE;
        else
            rc = dp_err_set(err, DP_EINVAL,
                            "%s:%lu: unknown trace format: the first record has none of "
                            "'turns' (DualPath sessions), 'chat_id' (Qwen-Bailian), "
                            "'request_id' (Dynamo agentic), 'input_length' (Mooncake); "
                            "name the format with --format",
                            path, lines.lineno);
        json_decref(rec);
    }
    dp_tr_lines_close(&lines);
    return rc;
}

int dp_trace_load_opts(const char *path, const struct dp_trace_opts *o, struct dp_workload *w,
                       struct dp_err *err)
{
    enum dp_trace_format fmt = o ? o->format : DP_TRACE_AUTO;
    uint32_t ht = o ? o->hash_tokens : 0;
    dp_workload_init(w, DP_TRACE_BLOCK_TOKENS);
    if (fmt == DP_TRACE_AUTO) {
        int rc = detect(path, &fmt, err);
        if (rc)
            return rc;
    }
    switch (fmt) {
    case DP_TRACE_MOONCAKE:
        if (ht && ht != DP_TRACE_BLOCK_TOKENS)
            return dp_err_set(err, DP_EINVAL,
                              "%s: --hash-block %u: Mooncake traces hash 512-token blocks", path,
                              ht);
        return dp_mooncake_load(path, w, err);
    case DP_TRACE_SESSIONS: return dp_sessions_load(path, w, err);
    case DP_TRACE_BAILIAN: return dp_bailian_load(path, ht, w, err);
    case DP_TRACE_AGENTIC: return dp_agentic_load(path, ht, w, err);
    default: break;
    }
    return dp_err_set(err, DP_EINVAL, "%s: unknown trace format %d", path, (int)fmt);
}

int dp_trace_load(const char *path, enum dp_trace_format fmt, struct dp_workload *w,
                  struct dp_err *err)
{
    struct dp_trace_opts o = {fmt, 0};
    return dp_trace_load_opts(path, &o, w, err);
}
