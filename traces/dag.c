/* DAG sessions from request rows (trace_internal.h, "DAG sessions"): the
 * shared back half of the Qwen-Bailian and Dynamo agentic readers.
 *
 * Rows linked by a dependency (either way) form one session: union-find
 * over the edges. Inside a session the turns are put in a topological
 * order with Kahn's algorithm, taking among the ready rows the earliest
 * recorded time, then the earliest line, so the order is the file's
 * timeline wherever the graph allows and is the same on every run. Rows
 * left over by Kahn's algorithm lie on or behind a cycle; one cycle is
 * found by walking dependencies and reported with its rows' names. */
#include "traces/trace_internal.h"

#include <stdlib.h>
#include <string.h>

void dp_tr_dag_init(struct dp_tr_dag *d)
{
    memset(d, 0, sizeof *d);
}

void dp_tr_dag_free(struct dp_tr_dag *d)
{
    free(d->rows);
    free(d->ids);
    free(d->edges);
    free(d->same);
    free(d->names);
    memset(d, 0, sizeof *d);
}

long dp_tr_dag_add(struct dp_tr_dag *d, const struct dp_tr_row *r, const uint64_t *ids,
                   const char *name)
{
    size_t len = strlen(name) + 1;
    if (DP_GROW(d->rows, d->cap, d->n + 1, 64) ||
        DP_GROW(d->ids, d->cap_ids, d->n_ids + r->n_hash, 64) ||
        DP_GROW(d->names, d->cap_names, d->n_names + len, 64))
        return -1;
    struct dp_tr_row *row = &d->rows[d->n];
    *row = *r;
    row->hash_off = d->n_ids;
    row->name_off = d->n_names;
    if (r->n_hash)
        memcpy(d->ids + d->n_ids, ids, r->n_hash * sizeof *ids);
    d->n_ids += r->n_hash;
    memcpy(d->names + d->n_names, name, len);
    d->n_names += len;
    return (long)d->n++;
}

int dp_tr_dag_dep(struct dp_tr_dag *d, size_t row, size_t dep)
{
    if (DP_GROW(d->edges, d->cap_edges, d->n_edges + 1, 64))
        return DP_ENOMEM;
    d->edges[d->n_edges][0] = (uint32_t)row;
    d->edges[d->n_edges][1] = (uint32_t)dep;
    d->n_edges++;
    return 0;
}

int dp_tr_dag_same(struct dp_tr_dag *d, size_t a, size_t b)
{
    if (DP_GROW(d->same, d->cap_same, d->n_same + 1, 64))
        return DP_ENOMEM;
    d->same[d->n_same][0] = (uint32_t)a;
    d->same[d->n_same][1] = (uint32_t)b;
    d->n_same++;
    return 0;
}

/* ------------------------------------------------------------ building */

struct build {
    struct dp_tr_dag *d;
    const char *path, *dep_field;
    struct dp_err *err;
    uint32_t *dep_off, *deps;      /* CSR: row r's deps are deps[dep_off[r]..dep_off[r+1]) */
    uint32_t *succ_off, *succ;     /* CSR of successors */
    uint32_t *uf;                  /* union-find parents */
    uint32_t *order;               /* rows grouped by session */
    uint32_t *local;               /* row -> position in its session's topological order */
    uint32_t *heap;
    size_t n_heap;
};

static const char *name_of(const struct build *b, size_t r)
{
    return b->d->names + b->d->rows[r].name_off;
}

static uint32_t find(uint32_t *uf, uint32_t x)
{
    while (uf[x] != x) {
        uf[x] = uf[uf[x]];   /* path halving */
        x = uf[x];
    }
    return x;
}

static void unite(uint32_t *uf, uint32_t a, uint32_t b)
{
    uint32_t x = find(uf, a), y = find(uf, b);
    if (x != y)
        uf[x > y ? x : y] = x < y ? x : y;
}

/* Dependency lists from the edge list: counting sort by row keeps each
 * row's given order; repeats of a dependency are dropped. */
static int make_deps(struct build *b)
{
    size_t n = b->d->n, m = b->d->n_edges;
    b->dep_off = calloc(n + 1, sizeof *b->dep_off);
    b->deps = malloc((m ? m : 1) * sizeof *b->deps);
    if (!b->dep_off || !b->deps)
        return DP_ENOMEM;
    for (size_t e = 0; e < m; e++)
        b->dep_off[b->d->edges[e][0] + 1]++;
    for (size_t r = 0; r < n; r++)
        b->dep_off[r + 1] += b->dep_off[r];
    uint32_t *fill = malloc((n ? n : 1) * sizeof *fill);
    if (!fill)
        return DP_ENOMEM;
    memcpy(fill, b->dep_off, n * sizeof *fill);
    for (size_t e = 0; e < m; e++) {
        uint32_t r = b->d->edges[e][0], dep = b->d->edges[e][1];
        int seen = 0;
        for (uint32_t i = b->dep_off[r]; i < fill[r] && !seen; i++)
            seen = b->deps[i] == dep;
        if (!seen)
            b->deps[fill[r]++] = dep;
    }
    /* compact away the dropped repeats */
    size_t out = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t lo = b->dep_off[r], hi = fill[r];
        b->dep_off[r] = (uint32_t)out;
        for (uint32_t i = lo; i < hi; i++)
            b->deps[out++] = b->deps[i];
    }
    b->dep_off[n] = (uint32_t)out;
    free(fill);
    return 0;
}

static int make_succ(struct build *b)
{
    size_t n = b->d->n, m = b->dep_off[n];
    b->succ_off = calloc(n + 1, sizeof *b->succ_off);
    b->succ = malloc((m ? m : 1) * sizeof *b->succ);
    uint32_t *fill = malloc((n ? n : 1) * sizeof *fill);
    if (!b->succ_off || !b->succ || !fill) {
        free(fill);
        return DP_ENOMEM;
    }
    for (size_t i = 0; i < m; i++)
        b->succ_off[b->deps[i] + 1]++;
    for (size_t r = 0; r < n; r++)
        b->succ_off[r + 1] += b->succ_off[r];
    memcpy(fill, b->succ_off, n * sizeof *fill);
    for (size_t r = 0; r < n; r++)
        for (uint32_t i = b->dep_off[r]; i < b->dep_off[r + 1]; i++)
            b->succ[fill[b->deps[i]]++] = (uint32_t)r;
    free(fill);
    return 0;
}

/* ---- ready rows: a min-heap by (recorded time, line) ---- */

static int before(const struct build *b, uint32_t x, uint32_t y)
{
    const struct dp_tr_row *p = &b->d->rows[x], *q = &b->d->rows[y];
    uint64_t tp = p->has_ts ? p->ts_ns : 0, tq = q->has_ts ? q->ts_ns : 0;
    return tp != tq ? tp < tq : x < y;
}

static void heap_push(struct build *b, uint32_t r)
{
    size_t i = b->n_heap++;
    b->heap[i] = r;
    while (i > 0 && before(b, b->heap[i], b->heap[(i - 1) / 2])) {
        uint32_t t = b->heap[i];
        b->heap[i] = b->heap[(i - 1) / 2];
        b->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static uint32_t heap_pop(struct build *b)
{
    uint32_t top = b->heap[0];
    b->heap[0] = b->heap[--b->n_heap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, s = i;
        if (l < b->n_heap && before(b, b->heap[l], b->heap[s]))
            s = l;
        if (l + 1 < b->n_heap && before(b, b->heap[l + 1], b->heap[s]))
            s = l + 1;
        if (s == i)
            break;
        uint32_t t = b->heap[i];
        b->heap[i] = b->heap[s];
        b->heap[s] = t;
        i = s;
    }
    return top;
}

/* A cycle among the rows Kahn's algorithm left (left[r] > 0): walk from
 * one to a dependency also left, until a row repeats. */
static int report_cycle(struct build *b, const uint32_t *rows, size_t n, const uint32_t *left)
{
    uint32_t r = UINT32_MAX;
    for (size_t i = 0; i < n && r == UINT32_MAX; i++)
        if (left[b->local[rows[i]]])
            r = rows[i];
    /* mark visit order; a row seen twice closes the cycle */
    for (size_t steps = 0; steps <= n; steps++) {
        b->local[r] |= 0x80000000u;
        uint32_t next = UINT32_MAX;
        for (uint32_t i = b->dep_off[r]; i < b->dep_off[r + 1] && next == UINT32_MAX; i++)
            if (left[b->local[b->deps[i]] & 0x7fffffffu])
                next = b->deps[i];
        if (next == UINT32_MAX)
            break;   /* cannot happen: every left row has a left dependency */
        r = next;
        if (b->local[r] & 0x80000000u)
            break;
    }
    /* r is on the cycle: name it and the way back to it */
    char msg[300];
    size_t len = 0;
    uint32_t x = r;
    for (int k = 0; k < 6; k++) {
        len += (size_t)snprintf(msg + len, sizeof msg - len, "%s'%.40s'", k ? " waits for " : "",
                                name_of(b, x));
        uint32_t next = UINT32_MAX;
        for (uint32_t i = b->dep_off[x]; i < b->dep_off[x + 1] && next == UINT32_MAX; i++)
            if (b->local[b->deps[i]] & 0x80000000u)
                next = b->deps[i];
        if (next == UINT32_MAX || len >= sizeof msg - 60)
            break;
        x = next;
        if (x == r) {
            len += (size_t)snprintf(msg + len, sizeof msg - len, " waits for '%.40s'",
                                    name_of(b, x));
            break;
        }
    }
    struct dp_tr_at at = {b->path, b->d->rows[r].line, b->err};
    return dp_tr_fail(&at, b->dep_field, "cycle: %s (a request cannot wait for itself)", msg);
}

/* Topological order of one session's rows into out[]; 0 or an error. */
static int toposort(struct build *b, const uint32_t *rows, size_t n, uint32_t *out,
                    uint32_t *left)
{
    for (size_t i = 0; i < n; i++) {
        b->local[rows[i]] = (uint32_t)i;
        left[i] = b->dep_off[rows[i] + 1] - b->dep_off[rows[i]];
    }
    b->n_heap = 0;
    for (size_t i = 0; i < n; i++)
        if (!left[i])
            heap_push(b, rows[i]);
    size_t done = 0;
    while (b->n_heap) {
        uint32_t r = heap_pop(b);
        out[done++] = r;
        for (uint32_t i = b->succ_off[r]; i < b->succ_off[r + 1]; i++)
            if (--left[b->local[b->succ[i]]] == 0)
                heap_push(b, b->succ[i]);
    }
    if (done < n)
        return report_cycle(b, rows, n, left);
    for (size_t i = 0; i < n; i++)
        b->local[out[i]] = (uint32_t)i;
    return 0;
}

/* Adds one session: rows in topological order. */
static int add_session(struct build *b, const uint32_t *topo, size_t n, uint64_t id,
                       struct dp_turn *turns, struct dp_turn_link *links, uint32_t *dep_buf,
                       struct dp_workload *w)
{
    const struct dp_tr_dag *d = b->d;
    uint64_t start = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        const struct dp_tr_row *r = &d->rows[topo[i]];
        if (b->dep_off[topo[i]] == b->dep_off[topo[i] + 1]) {
            if (!r->has_ts) {
                struct dp_tr_at at = {b->path, r->line, b->err};
                return dp_tr_fail(&at, "timestamp",
                                  "missing (a request that waits for nothing starts at its "
                                  "recorded time)");
            }
            if (r->ts_ns < start)
                start = r->ts_ns;
        }
    }
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t g = topo[i];
        const struct dp_tr_row *r = &d->rows[g];
        struct dp_turn *t = &turns[i];
        struct dp_turn_link *l = &links[i];
        memset(t, 0, sizeof *t);
        memset(l, 0, sizeof *l);
        l->deps = dep_buf + nd;
        l->flags = r->flags;
        uint64_t dep_at = 0, dep_ts = 0;
        for (uint32_t k = b->dep_off[g]; k < b->dep_off[g + 1]; k++) {
            uint32_t j = b->local[b->deps[k]];
            l->deps[l->n_deps++] = j;
            if (links[j].at_ns > dep_at)
                dep_at = links[j].at_ns;
            const struct dp_tr_row *q = &d->rows[b->deps[k]];
            if (q->has_ts && q->ts_ns > dep_ts)
                dep_ts = q->ts_ns;
        }
        nd += l->n_deps;
        if (r->gap_ns == DP_TR_GAP_FROM_TS)
            t->think_ns = l->n_deps && r->ts_ns > dep_ts ? r->ts_ns - dep_ts : 0;
        else
            t->think_ns = l->n_deps ? r->gap_ns : 0;
        if (r->has_ts)
            l->at_ns = r->ts_ns > start ? r->ts_ns - start : 0;
        else
            l->at_ns = dep_at + t->think_ns;   /* no service time known */
        t->input_tokens = r->input;
        t->output_tokens = r->output;
        /* New tokens: beyond the context of the turn it extends. */
        uint64_t ctx = 0;
        if (l->n_deps && !(l->flags & DP_TURN_RESET))
            ctx = (uint64_t)turns[l->deps[0]].input_tokens + turns[l->deps[0]].output_tokens;
        t->append_tokens = r->input > ctx ? (uint32_t)(r->input - ctx) : 1;
        l->tool_ns = r->tool_ns < t->think_ns ? r->tool_ns : t->think_ns;
        t->n_hash = r->n_hash;
        t->hash_ids = r->n_hash ? d->ids + r->hash_off : NULL;
        if (l->n_deps == 0)
            l->flags |= DP_TURN_RESET;   /* a root's context is its own */
    }
    struct dp_session *s = dp_workload_add_dag(w, start, turns, links, (uint32_t)n);
    if (!s)
        return dp_err_set(b->err, DP_ENOMEM, "%s: out of memory", b->path);
    s->id = id;
    return 0;
}

static int sessions(struct build *b, struct dp_workload *w)
{
    size_t n = b->d->n;
    /* group rows: union over edges, then bucket by root in first-row order */
    uint32_t *gid = malloc(n * sizeof *gid), *count = calloc(n + 1, sizeof *count);
    uint32_t *topo = malloc(n * sizeof *topo), *left = malloc(n * sizeof *left);
    uint32_t *dep_buf = malloc((b->dep_off[n] + 1) * sizeof *dep_buf);
    struct dp_turn *turns = malloc(n * sizeof *turns);
    struct dp_turn_link *links = malloc(n * sizeof *links);
    int rc = 0;
    if (!gid || !count || !topo || !left || !dep_buf || !turns || !links) {
        rc = DP_ENOMEM;
        goto out;
    }
    size_t groups = 0;
    for (size_t r = 0; r < n; r++)
        gid[r] = UINT32_MAX;
    for (size_t r = 0; r < n; r++) {
        uint32_t root = find(b->uf, (uint32_t)r);
        if (gid[root] == UINT32_MAX)
            gid[root] = (uint32_t)groups++;
        count[gid[root] + 1]++;
    }
    for (size_t g = 0; g < groups; g++)
        count[g + 1] += count[g];
    for (size_t r = 0; r < n; r++)
        b->order[count[gid[find(b->uf, (uint32_t)r)]]++] = (uint32_t)r;
    size_t lo = 0;
    for (size_t g = 0; g < groups && rc == 0; g++) {
        size_t hi = count[g];   /* after the fill pass count[g] is the group's end */
        rc = toposort(b, b->order + lo, hi - lo, topo, left);
        if (rc == 0)
            rc = add_session(b, topo, hi - lo, g, turns, links, dep_buf, w);
        lo = hi;
    }
    if (rc == DP_ENOMEM)
        dp_err_set(b->err, DP_ENOMEM, "%s: out of memory", b->path);
out:
    free(gid);
    free(count);
    free(topo);
    free(left);
    free(dep_buf);
    free(turns);
    free(links);
    return rc == DP_ENOMEM ? dp_err_set(b->err, DP_ENOMEM, "%s: out of memory", b->path) : rc;
}

int dp_tr_dag_build(struct dp_tr_dag *d, const char *path, const char *dep_field,
                    struct dp_workload *w, struct dp_err *err)
{
    struct build b = {d, path, dep_field, err, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    size_t n = d->n;
    int rc = 0;
    if (n == 0)
        return 0;
    b.uf = malloc(n * sizeof *b.uf);
    b.order = malloc(n * sizeof *b.order);
    b.local = malloc(n * sizeof *b.local);
    b.heap = malloc(n * sizeof *b.heap);
    if (!b.uf || !b.order || !b.local || !b.heap || make_deps(&b) || make_succ(&b)) {
        rc = dp_err_set(err, DP_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (size_t r = 0; r < n; r++)
        b.uf[r] = (uint32_t)r;
    for (size_t r = 0; r < n; r++)
        for (uint32_t i = b.dep_off[r]; i < b.dep_off[r + 1]; i++)
            unite(b.uf, (uint32_t)r, b.deps[i]);
    for (size_t i = 0; i < d->n_same; i++)
        unite(b.uf, d->same[i][0], d->same[i][1]);
    rc = sessions(&b, w);
out:
    free(b.dep_off);
    free(b.deps);
    free(b.succ_off);
    free(b.succ);
    free(b.uf);
    free(b.order);
    free(b.local);
    free(b.heap);
    return rc;
}
