/* Helpers shared by the trace readers, writer and statistics (see
 * trace_internal.h). */
#include "traces/trace_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- lines */

int dp_tr_lines_open(struct dp_tr_lines *r, const char *path, struct dp_err *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->f = fopen(path, "r");
    if (!r->f) {
        int e = errno;
        return dp_err_set(err, e == ENOENT ? DP_ENOENT : DP_EIO, "%s: cannot open: %s",
                          path, strerror(e));
    }
    /* Large stdio buffer: traces are read front to back once. */
    setvbuf(r->f, NULL, _IOFBF, 1 << 20);
    return 0;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
            return 0;
    return 1;
}

int dp_tr_lines_next(struct dp_tr_lines *r, struct dp_err *err)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&r->buf, &r->cap, r->f);
        if (n < 0) {
            if (ferror(r->f)) {
                int e = errno ? errno : EIO;
                return dp_err_set(err, DP_EIO, "%s:%lu: read error: %s", r->path,
                                  r->lineno + 1, strerror(e));
            }
            return 0;
        }
        r->lineno++;
        r->len = (size_t)n;
        r->had_newline = r->len > 0 && r->buf[r->len - 1] == '\n';
        if (r->had_newline)
            r->buf[--r->len] = '\0';
        if (r->len > 0 && r->buf[r->len - 1] == '\r')   /* CRLF files */
            r->buf[--r->len] = '\0';
        if (!is_blank(r->buf, r->len))
            return 1;
    }
}

void dp_tr_lines_close(struct dp_tr_lines *r)
{
    if (r->f)
        fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

const char *dp_tr_json_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "?";
}

int dp_tr_parse_line(const struct dp_tr_lines *r, json_t **out, struct dp_err *err)
{
    json_error_t je;
    *out = NULL;
    json_t *v = json_loadb(r->buf, r->len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        /* jansson sees one line at a time: its "end of file" is this line's end */
        char text[JSON_ERROR_TEXT_LENGTH + 32];
        snprintf(text, sizeof text, "%s", je.text);
        char *eof = strstr(text, "near end of file");
        if (eof && r->had_newline)
            snprintf(eof, sizeof text - (size_t)(eof - text), "at the end of the line");
        if (json_error_code(&je) == json_error_premature_end_of_input)
            return dp_err_set(err, DP_EINVAL,
                              "%s:%lu: truncated record at column %d%s: %s%s", r->path,
                              r->lineno, je.column,
                              r->had_newline ? "" : " (last line, no newline at end of file)",
                              text, r->had_newline ? " (each record is one whole JSON object on one line)" : "");
        return dp_err_set(err, DP_EINVAL, "%s:%lu: bad JSON at column %d: %s", r->path,
                          r->lineno, je.column, text);
    }
    if (!json_is_object(v)) {
        int rc = dp_err_set(err, DP_EINVAL, "%s:%lu: expected one JSON object a line, got %s",
                            r->path, r->lineno, dp_tr_json_type(v));
        json_decref(v);
        return rc;
    }
    *out = v;
    return 0;
}

int dp_tr_each_record(const char *path, int (*fn)(void *ctx, const struct dp_tr_at *at,
                                                  json_t *rec),
                      void *ctx, struct dp_err *err)
{
    struct dp_tr_lines lines;
    int rc = dp_tr_lines_open(&lines, path, err), n = 0;
    if (rc)
        return rc;
    while ((rc = dp_tr_lines_next(&lines, err)) == 1) {
        json_t *rec;
        if ((rc = dp_tr_parse_line(&lines, &rec, err)))
            break;
        struct dp_tr_at at = {path, lines.lineno, err};
        rc = fn(ctx, &at, rec);
        json_decref(rec);
        if (rc)
            break;
        n = 1;
    }
    if (rc == 0 && !n)
        rc = dp_err_set(err, DP_EINVAL, "%s: empty trace: no records (%lu lines)", path,
                        lines.lineno);
    dp_tr_lines_close(&lines);
    return rc;
}

/* --------------------------------------------------------------- fields */

int dp_tr_fail(const struct dp_tr_at *at, const char *label, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (label)
        return dp_err_set(at->err, DP_EINVAL, "%s:%lu: field '%s': %s", at->path, at->line,
                          label, what);
    return dp_err_set(at->err, DP_EINVAL, "%s:%lu: %s", at->path, at->line, what);
}

int dp_tr_uint(const struct dp_tr_at *at, const json_t *v, const char *label,
               uint64_t min, uint64_t max, uint64_t *out)
{
    if (!v)
        return dp_tr_fail(at, label, "missing");
    if (!json_is_integer(v))
        return dp_tr_fail(at, label, "must be an integer, got %s", dp_tr_json_type(v));
    json_int_t x = json_integer_value(v);
    if (x < 0)
        return dp_tr_fail(at, label, "must be >= %llu, got %lld", (unsigned long long)min,
                          (long long)x);
    if ((uint64_t)x < min)
        return dp_tr_fail(at, label, "must be >= %llu, got %lld", (unsigned long long)min,
                          (long long)x);
    if ((uint64_t)x > max)
        return dp_tr_fail(at, label, "must be <= %llu, got %lld", (unsigned long long)max,
                          (long long)x);
    *out = (uint64_t)x;
    return 0;
}

int dp_tr_ms(const struct dp_tr_at *at, const json_t *v, const char *label, uint64_t *ns)
{
    if (!v)
        return dp_tr_fail(at, label, "missing");
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0)
            return dp_tr_fail(at, label, "must be >= 0, got %lld", (long long)x);
        if ((double)x > DP_TRACE_MAX_MS)
            return dp_tr_fail(at, label, "must be <= %.0f ms, got %lld", DP_TRACE_MAX_MS,
                              (long long)x);
        *ns = (uint64_t)x * 1000000u;   /* exact for integer ms */
        return 0;
    }
    if (!json_is_real(v))
        return dp_tr_fail(at, label, "must be a number (ms), got %s", dp_tr_json_type(v));
    double x = json_real_value(v);
    if (!(x >= 0))
        return dp_tr_fail(at, label, "must be >= 0, got %g", x);
    if (x > DP_TRACE_MAX_MS)
        return dp_tr_fail(at, label, "must be <= %.0f ms, got %g", DP_TRACE_MAX_MS, x);
    *ns = (uint64_t)llround(x * 1e6);
    return 0;
}

/* ------------------------------------------------------------- sessions */

/* Bottom-up merge sort: stable, O(n log n), and the readers' common case,
 * an already ordered trace, is detected first and costs one pass. */
int dp_tr_sort_sessions(struct dp_workload *w)
{
    size_t n = w->n_sessions;
    size_t i;
    for (i = 1; i < n; i++)
        if (w->sessions[i].start_ns < w->sessions[i - 1].start_ns)
            break;
    if (i >= n)
        return 0;
    struct dp_session *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return DP_ENOMEM;
    struct dp_session *src = w->sessions, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            /* Take from the right run only when strictly earlier: equal
             * starts keep their file order. */
            while (a < mid && b < hi)
                dst[k++] = src[b].start_ns < src[a].start_ns ? src[b++] : src[a++];
            while (a < mid)
                dst[k++] = src[a++];
            while (b < hi)
                dst[k++] = src[b++];
        }
        struct dp_session *t = src;
        src = dst;
        dst = t;
    }
    if (src != w->sessions)
        memcpy(w->sessions, src, n * sizeof *src);
    free(tmp);
    return 0;
}

void dp_tr_set_source(struct dp_workload *w, const char *name)
{
    snprintf(w->source, sizeof w->source, "%s", name);
}

/* --------------------------------------------------------------- intern */

int dp_tr_intern_init(struct dp_tr_intern *t, size_t expect)
{
    memset(t, 0, sizeof *t);
    return dp_u64map_init(&t->map, expect, 1);
}

void dp_tr_intern_free(struct dp_tr_intern *t)
{
    dp_u64map_free(&t->map);
    free(t->pairs);
    memset(t, 0, sizeof *t);
}

int dp_tr_intern(struct dp_tr_intern *t, uint64_t a, uint64_t b, uint64_t *id)
{
    for (uint64_t salt = 0;; salt++) {
        uint64_t key = dp_mix64(dp_mix64(a ^ salt * 0x9e3779b97f4a7c15ULL) ^ b), v;
        if (dp_u64map_get(&t->map, key, &v)) {
            if (t->pairs[v][0] == a && t->pairs[v][1] == b) {
                *id = v;
                return 0;
            }
            continue;   /* another pair hashed here: probe with the next salt */
        }
        if (DP_GROW(t->pairs, t->cap, t->n + 1, 1024) || dp_u64map_put(&t->map, key, t->n))
            return DP_ENOMEM;
        t->pairs[t->n][0] = a;
        t->pairs[t->n][1] = b;
        *id = t->n++;
        return 0;
    }
}

/* ------------------------------------------------------------ hash ids */

int dp_tr_check_hash_count(const struct dp_tr_at *at, size_t n, uint64_t input,
                           uint32_t hash_tokens, const char *what)
{
    uint64_t max_blocks = (input + hash_tokens - 1) / hash_tokens;
    if (n > max_blocks)
        return dp_tr_fail(at, "hash_ids",
                          "%zu ids for input_length %llu: at most %llu blocks of %u tokens (%s; "
                          "if the trace was hashed otherwise, give --hash-block N)",
                          n, (unsigned long long)input, (unsigned long long)max_blocks,
                          hash_tokens, what);
    return 0;
}

int dp_tr_read_ids(const struct dp_tr_at *at, const json_t *arr, const char *label,
                   struct dp_tr_ids *out)
{
    out->n = 0;
    if (!arr)
        return dp_tr_fail(at, label, "missing");
    if (!json_is_array(arr))
        return dp_tr_fail(at, label, "must be an array of integers, got %s",
                          dp_tr_json_type(arr));
    size_t n = json_array_size(arr);
    if (DP_GROW(out->v, out->cap, n, 64))
        return dp_err_set(at->err, DP_ENOMEM, "%s:%lu: out of memory", at->path, at->line);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_integer(e))
            return dp_tr_fail(at, label, "element %zu must be an integer, got %s", i,
                              dp_tr_json_type(e));
        json_int_t x = json_integer_value(e);
        if (x < 0)
            return dp_tr_fail(at, label, "element %zu must be >= 0, got %lld", i, (long long)x);
        out->v[i] = (uint64_t)x;
    }
    out->n = n;
    return 0;
}

/* --------------------------------------------------------------- output */

void dp_tr_fmt_ms(char *buf, size_t n, uint64_t ns)
{
    uint64_t ms = ns / 1000000u, frac = ns % 1000000u;
    if (frac == 0) {
        snprintf(buf, n, "%llu", (unsigned long long)ms);
        return;
    }
    int digits = 6;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    snprintf(buf, n, "%llu.%0*llu", (unsigned long long)ms, digits, (unsigned long long)frac);
}

int dp_tr_write_atomic(const char *path, int (*write)(FILE *f, const void *ctx),
                       const void *ctx, struct dp_err *err)
{
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    if (!tmp)
        return dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, n, "%s.tmp", path);
    /* Write beside the target, then rename: a reader never sees half a file. */
    FILE *f = fopen(tmp, "w");
    if (!f) {
        int rc = dp_err_set(err, errno == ENOENT ? DP_ENOENT : DP_EIO, "%s: cannot open: %s",
                            tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    int rc = 0, bad = write(f, ctx) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad)
        rc = dp_err_set(err, DP_EIO, "%s: write error: %s", tmp, strerror(e));
    else if (rename(tmp, path) != 0)
        rc = dp_err_set(err, DP_EIO, "%s: cannot rename %s into place: %s", path, tmp,
                        strerror(errno));
    if (rc)
        remove(tmp);
    free(tmp);
    return rc;
}
