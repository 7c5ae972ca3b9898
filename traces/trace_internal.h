/* Private helpers of traces/: the line reader, JSON field accessors that
 * write the "FILE:LINE: field 'F': what" messages, and a stable session
 * sort. Not part of the module's interface (trace.h is). */
#ifndef DP_TRACE_INTERNAL_H
#define DP_TRACE_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/errors.h"
#include "base/grow.h"
#include "base/u64map.h"
#include "traces/workload.h"

/* Tokens per hash id in Mooncake traces, and the block size the readers give
 * a workload (callers may change w->block_tokens afterwards). */
#define DP_TRACE_BLOCK_TOKENS 512u

/* Largest time accepted in ms: keeps ms * 1e6 inside int64 ns (~285 years). */
#define DP_TRACE_MAX_MS 9.0e12

/* ---- lines ---- */
struct dp_tr_lines {
    FILE *f;
    const char *path;
    char *buf;          /* current line, NUL-terminated, newline stripped */
    size_t cap;
    size_t len;
    unsigned long lineno;   /* 1-based number of the current line */
    int had_newline;        /* 0 on a last line that ends without '\n' */
};

/* Opens path; DP_ENOENT/DP_EIO with "FILE: cannot open: strerror". */
int dp_tr_lines_open(struct dp_tr_lines *r, const char *path, struct dp_err *err);
/* Next non-blank line: 1 when one was read, 0 at end of file, DP_EIO on a
 * read error. */
int dp_tr_lines_next(struct dp_tr_lines *r, struct dp_err *err);
void dp_tr_lines_close(struct dp_tr_lines *r);

/* Parses the current line as one JSON object (duplicate keys rejected). */
int dp_tr_parse_line(const struct dp_tr_lines *r, json_t **out, struct dp_err *err);
const char *dp_tr_json_type(const json_t *v);

/* ---- fields: label is the name the message shows ("turns[2].append") ---- */
struct dp_tr_at {
    const char *path;
    unsigned long line;
    struct dp_err *err;
};
/* Integer in [min, max]; DP_EINVAL naming the field when missing, of another
 * type or out of range. A NULL value means the key was missing. */
int dp_tr_uint(const struct dp_tr_at *at, const json_t *v, const char *label,
               uint64_t min, uint64_t max, uint64_t *out);
/* A time in milliseconds (integer or real, >= 0) converted to ns. */
int dp_tr_ms(const struct dp_tr_at *at, const json_t *v, const char *label,
             uint64_t *ns);
int dp_tr_fail(const struct dp_tr_at *at, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tests: 0 sends every Mooncake line through json_loadb (the reference
 * path), 1 (the default) lets plain lines take the fast parser. */
void dp_tr_mooncake_set_fast(int on);

/* ---- sessions ---- */
/* Stable sort of w's sessions by start_ns (no work when already sorted). */
int dp_tr_sort_sessions(struct dp_workload *w);
/* The workload's source name, truncated to fit. */
void dp_tr_set_source(struct dp_workload *w, const char *name);

#endif
