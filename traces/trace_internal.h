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
#include "base/hash.h"
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

/* Calls fn(ctx, at, record) for every record (one JSON object a line) of
 * path, stopping at the first non-zero return; DP_EINVAL "empty trace" when
 * the file holds none. */
struct dp_tr_at;
int dp_tr_each_record(const char *path, int (*fn)(void *ctx, const struct dp_tr_at *at,
                                                  json_t *rec),
                      void *ctx, struct dp_err *err);
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

/* Exact interning of (a, b) pairs to dense ids 0, 1, 2...: chaining
 * per-block hashes into prefix ids, and splitting a block id into finer
 * ones. Equal pairs get equal ids, distinct pairs distinct ones (the pair
 * is kept and compared; a hash collision only costs a probe). */
struct dp_tr_intern {
    struct dp_u64map map;   /* mix(a, b, salt) -> id */
    uint64_t (*pairs)[2];   /* by id */
    size_t n, cap;
};
int dp_tr_intern_init(struct dp_tr_intern *t, size_t expect);
void dp_tr_intern_free(struct dp_tr_intern *t);
/* 0 and *id, or DP_ENOMEM. */
int dp_tr_intern(struct dp_tr_intern *t, uint64_t a, uint64_t b, uint64_t *id);

/* ---- DAG sessions from request rows (traces/dag.c) ----
 * The Qwen-Bailian and Dynamo agentic readers turn each line into a row,
 * naming the rows it waits for; dp_tr_dag_build groups rows linked by
 * dependencies into sessions, orders each session topologically (ties by
 * time, then line), rejects cycles, and adds them to the workload. */
#define DP_TR_GAP_FROM_TS UINT64_MAX   /* think = own time - latest dependency's */
struct dp_tr_row {
    unsigned long line;
    uint64_t ts_ns;          /* recorded issue time */
    int has_ts;
    uint32_t input, output;
    uint64_t gap_ns;         /* delay after the last dependency ends, or DP_TR_GAP_FROM_TS */
    uint64_t tool_ns;        /* of gap_ns, tool time */
    uint32_t flags;          /* DP_TURN_* */
    uint32_t n_hash;
    size_t hash_off, name_off;
};
struct dp_tr_dag {
    struct dp_tr_row *rows;
    size_t n, cap;
    uint64_t *ids;           /* every row's hash ids */
    size_t n_ids, cap_ids;
    uint32_t (*edges)[2];    /* (row, dependency) pairs, in the order given */
    size_t n_edges, cap_edges;
    uint32_t (*same)[2];     /* rows of one session without a dependency */
    size_t n_same, cap_same;
    char *names;             /* every row's name, NUL-terminated, for messages */
    size_t n_names, cap_names;
};
void dp_tr_dag_init(struct dp_tr_dag *d);
void dp_tr_dag_free(struct dp_tr_dag *d);
/* Appends a row (copying ids and name); returns its index or -1 (ENOMEM). */
long dp_tr_dag_add(struct dp_tr_dag *d, const struct dp_tr_row *r, const uint64_t *ids,
                   const char *name);
/* Adds dependency row `dep` to row `row` (ignored when already there); the
 * rows' dependency lists are stored at build time, so this may be called in
 * any order. 0 or DP_ENOMEM. */
int dp_tr_dag_dep(struct dp_tr_dag *d, size_t row, size_t dep);
/* Puts two rows in the same session (Dynamo session_id) without a
 * dependency. 0 or DP_ENOMEM. */
int dp_tr_dag_same(struct dp_tr_dag *d, size_t a, size_t b);
/* Builds the sessions. dep_field names the field a cycle is reported on. */
int dp_tr_dag_build(struct dp_tr_dag *d, const char *path, const char *dep_field,
                    struct dp_workload *w, struct dp_err *err);

/* Hash ids a prompt of input tokens may carry at hash_tokens a block; fewer
 * is fine (only a prefix named). DP_EINVAL naming 'hash_ids' otherwise,
 * with a hint at --hash-block. */
int dp_tr_check_hash_count(const struct dp_tr_at *at, size_t n, uint64_t input,
                           uint32_t hash_tokens, const char *what);
/* Reads a JSON array of non-negative integers into a growable buffer. */
struct dp_tr_ids {
    uint64_t *v;
    size_t n, cap;
};
int dp_tr_read_ids(const struct dp_tr_at *at, const json_t *arr, const char *label,
                   struct dp_tr_ids *out);

/* ---- output ---- */
/* ns as exact decimal milliseconds ("1500.25", up to 6 decimals). */
void dp_tr_fmt_ms(char *buf, size_t n, uint64_t ns);
/* Writes path.tmp with write(f, ctx) (non-zero: failed), then renames it
 * onto path: a reader never sees half a file; nothing is left on failure. */
int dp_tr_write_atomic(const char *path, int (*write)(FILE *f, const void *ctx),
                       const void *ctx, struct dp_err *err);

/* Tests: 0 sends every Mooncake line through json_loadb (the reference
 * path), 1 (the default) lets plain lines take the fast parser. */
void dp_tr_mooncake_set_fast(int on);

/* ---- sessions ---- */
/* Stable sort of w's sessions by start_ns (no work when already sorted). */
int dp_tr_sort_sessions(struct dp_workload *w);
/* The workload's source name, truncated to fit. */
void dp_tr_set_source(struct dp_workload *w, const char *name);

#endif
