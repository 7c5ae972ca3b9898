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
