/* Flow-level bandwidth sharing: max-min fairness per lane, strict priority
 * between lanes, recomputed lazily per connected component.
 *
 * Accounting. Every flow's `remaining` and every link's `bytes` are advanced
 * together, at the same instants (a settle advances all links and flows of a
 * component; a completion advances the flow's links), and between those
 * instants every rate is constant. So the integral of a link's rate equals
 * the sum of what its flows' `remaining` lost. When a flow's `remaining` would
 * go below zero (its completion event is rounded up to whole ns, so it may
 * overshoot by up to rate * 1 ns), the overshoot is taken back from its links
 * and `remaining` is clamped; at completion whatever is left is added to its
 * links. Each link therefore carries exactly bytes_total per finished flow,
 * up to floating-point rounding, however the rates changed on the way.
 *
 * Rates. For lane 0, then lane 1, ..., progressive filling: the link with the
 * smallest fair share (capacity left / unfrozen flows of this lane on it) is
 * the bottleneck; its flows are frozen at that share and their bytes/s are
 * taken from every link of their paths; repeat. The links sit in a binary
 * heap keyed by share. Freezing a flow only raises the share of the other
 * links it crosses (share <= theirs), so keys are updated lazily: when the
 * top's share grew since it was keyed, it is re-keyed and sifted down. Each
 * flow then costs O(path) plain arithmetic; the heap work is O(L log L) per
 * lane plus the re-keys, and a lane stops once all its flows are frozen.
 *
 * One settle is then a few passes over a component: gather (breadth-first
 * search that also advances every link and flow to now and counts flows per
 * lane per link), one filling per lane that freezes flows and moves their
 * completion events as it goes, and a last pass setting link rates. */
#include "sim/links.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"
#include "base/grow.h"

/* One flow's membership in one link's list. pprev points at the previous
 * node's next field (or the link's head), so unlinking needs no search. */
struct dp_flow_ref {
    struct dp_flow *flow;
    struct dp_flow_ref *next;
    struct dp_flow_ref **pprev;
    uint8_t lane;            /* copy of flow->lane: filling skips other lanes
                              * without touching the flow */
};

#define REF_SLAB 1024
struct ref_slab {
    struct ref_slab *next;
    struct dp_flow_ref refs[REF_SLAB];
};

/* Per-link state of one settle, indexed by link id. */
struct link_fill {
    double cap;              /* bytes/s not yet given to frozen flows */
    double used;             /* bytes/s given so far */
    double floor;            /* capacity below this is rounding residue */
    uint32_t cnt[DP_LANES];  /* unfrozen flows per lane */
};

struct heap_ent {
    double key;              /* share when last keyed: a lower bound of it */
    uint32_t id;
};

struct net_scratch {
    struct link_fill *lf;    /* [cap_links] */
    uint32_t *comp;          /* [cap_links] component's links, BFS queue */
    struct heap_ent *heap;   /* [cap_links] */
    uint32_t cap_links;
    struct dp_flow **flows;  /* [cap_flows] component's flows */
    size_t cap_flows;
    struct dp_flow_ref *free_refs;
    size_t n_free_refs;
    struct ref_slab *slabs;
};

/* A link with less than this fraction of its bw left counts as full: the
 * residue of subtracting many shares must not become a tiny positive rate
 * with a completion time centuries away. */
#define RESIDUE_REL 1e-9
/* A flow with fewer bytes left than this is complete. */
#define TINY_BYTES 1e-6

#define FLOW_OF_EV(ev) \
    ((struct dp_flow *)((char *)(ev) - offsetof(struct dp_flow, done_ev)))

static inline struct net_scratch *scr(const struct dp_net *n)
{
    return n->scratch;
}

/* ---- growth --------------------------------------------------------- */

/* Resize array p to n elements; leaves p as it was on failure. */
#define GROW(p, n) grow_to((void *)&(p), sizeof *(p), (n))
static int grow_to(void *pp, size_t elem, size_t n)
{
    void *old;
    memcpy(&old, pp, sizeof old);    /* no aliasing T** as void** */
    void *q = realloc(old, elem * n);
    if (!q)
        return DP_ENOMEM;
    memcpy(pp, &q, sizeof q);
    return 0;
}

static int reserve_links(struct dp_net *n, uint32_t want)
{
    struct net_scratch *s = scr(n);
    if (want <= n->cap_links)
        return 0;
    uint32_t cap = n->cap_links ? n->cap_links : 16;
    while (cap < want) {
        if (cap > UINT32_MAX / 2)
            return DP_ENOMEM;
        cap *= 2;
    }
    if (GROW(n->links, cap) || GROW(n->dirty, cap) || GROW(s->lf, cap) ||
        GROW(s->comp, cap) || GROW(s->heap, cap))
        return DP_ENOMEM;
    /* Arrays that grew keep their larger size even when a later one fails;
     * the capacities only move once all have room. */
    n->cap_links = n->cap_dirty = s->cap_links = cap;
    return 0;
}

/* Settle never allocates: flow_start keeps room for every active flow. */
static int reserve_flows(struct dp_net *n, size_t want)
{
    struct net_scratch *s = scr(n);
    struct dp_flow **f = dp_grow(s->flows, &s->cap_flows, want, sizeof *f, 256);
    if (!f)
        return DP_ENOMEM;
    s->flows = f;
    return 0;
}

static int reserve_refs(struct dp_net *n, size_t want)
{
    struct net_scratch *s = scr(n);
    while (s->n_free_refs < want) {
        struct ref_slab *sl = malloc(sizeof *sl);
        if (!sl)
            return DP_ENOMEM;
        sl->next = s->slabs;
        s->slabs = sl;
        for (size_t i = 0; i < REF_SLAB; i++) {
            sl->refs[i].next = s->free_refs;
            s->free_refs = &sl->refs[i];
        }
        s->n_free_refs += REF_SLAB;
    }
    return 0;
}

static inline struct dp_flow_ref *ref_get(struct net_scratch *s)
{
    struct dp_flow_ref *r = s->free_refs;
    s->free_refs = r->next;
    s->n_free_refs--;
    return r;
}

static inline void ref_put(struct net_scratch *s, struct dp_flow_ref *r)
{
    r->next = s->free_refs;
    s->free_refs = r;
    s->n_free_refs++;
}

/* ---- links ------------------------------------------------------------ */

int dp_net_init(struct dp_net *n, struct dp_evq *q)
{
    memset(n, 0, sizeof *n);
    n->evq = q;
    n->scratch = calloc(1, sizeof(struct net_scratch));
    if (!n->scratch)
        return DP_ENOMEM;
    return 0;
}

void dp_net_free(struct dp_net *n)
{
    struct net_scratch *s = scr(n);
    if (s) {
        while (s->slabs) {
            struct ref_slab *next = s->slabs->next;
            free(s->slabs);
            s->slabs = next;
        }
        free(s->lf);
        free(s->comp);
        free(s->heap);
        free(s->flows);
        free(s);
    }
    free(n->links);
    free(n->dirty);
    memset(n, 0, sizeof *n);
}

int dp_net_add_link(struct dp_net *n, const char *name, double bw)
{
    if (!(bw > 0) || !isfinite(bw))   /* also rejects NaN */
        return DP_EINVAL;
    if (n->n_links >= (uint32_t)INT32_MAX)
        return DP_ERANGE;
    int rc = reserve_links(n, n->n_links + 1);
    if (rc)
        return rc;
    uint32_t id = n->n_links++;
    struct dp_link *l = &n->links[id];
    memset(l, 0, sizeof *l);
    l->bw = bw;
    if (name) {
        strncpy(l->name, name, sizeof l->name - 1);
        l->name[sizeof l->name - 1] = '\0';
    }
    return (int)id;
}

static inline void mark_dirty(struct dp_net *n, uint32_t id)
{
    struct dp_link *l = &n->links[id];
    if (!l->dirty) {
        l->dirty = 1;
        n->dirty[n->n_dirty++] = id;
    }
}

/* Bring a link's byte count up to now at its current rate. */
static inline void link_advance(struct dp_link *l, uint64_t now)
{
    assert(now >= l->last_ns);
    if (now != l->last_ns) {
        l->bytes += l->rate * (double)(now - l->last_ns) / 1e9;
        l->last_ns = now;
    }
}

double dp_link_bytes(struct dp_net *n, uint32_t link, uint64_t now)
{
    if (link >= n->n_links)
        return 0;
    const struct dp_link *l = &n->links[link];
    if (now <= l->last_ns)
        return l->bytes;
    return l->bytes + l->rate * (double)(now - l->last_ns) / 1e9;
}

/* ---- flows ------------------------------------------------------------- */

static void flow_done_ev(struct dp_ev *ev, void *ctx);

static int check_path(const struct dp_net *n, const uint32_t *path,
                      unsigned n_path)
{
    if (!path || n_path == 0 || n_path > DP_PATH_MAX)
        return DP_EINVAL;
    for (unsigned i = 0; i < n_path; i++) {
        if (path[i] >= n->n_links)
            return DP_EINVAL;
        /* A link twice would count the flow twice in its share. */
        for (unsigned j = 0; j < i; j++)
            if (path[j] == path[i])
                return DP_EINVAL;
    }
    return 0;
}

/* base + ceil(ns), saturating at UINT64_MAX ("never"). Rounded by hand:
 * baseline x86-64 has no roundsd, and ceil() would be a library call on
 * every flow start and rate change. */
static inline uint64_t add_ceil_ns(uint64_t base, double ns)
{
    if (!(ns < 4e18))
        return UINT64_MAX;                   /* centuries: never, in practice */
    int64_t k = (int64_t)ns;                 /* truncates: ns >= 0 */
    k += (double)k < ns;
    uint64_t t = base + (uint64_t)k;
    return t < base ? UINT64_MAX : t;
}

/* The earliest a flow may finish: all of it at the narrowest link's bw. */
static uint64_t earliest_done(const struct dp_net *n, const struct dp_flow *f)
{
    double bw = n->links[f->path[0]].bw;
    for (unsigned i = 1; i < f->n_path; i++)
        if (n->links[f->path[i]].bw < bw)
            bw = n->links[f->path[i]].bw;
    return add_ceil_ns(f->start_ns, f->bytes_total / bw * 1e9);
}

int dp_flow_start(struct dp_net *n, struct dp_flow *f, const uint32_t *path,
                  unsigned n_path, unsigned lane, double bytes, uint64_t now,
                  dp_flow_done_fn done, void *ctx)
{
    if (!f || lane >= DP_LANES || !(bytes >= 0) || !isfinite(bytes))
        return DP_EINVAL;
    int rc = check_path(n, path, n_path);
    if (rc)
        return rc;
    /* Claim memory first so a failure leaves nothing half done. */
    if ((rc = reserve_refs(n, n_path)) ||
        (rc = reserve_flows(n, n->n_flows_active + 1)))
        return rc;

    memcpy(f->path, path, n_path * sizeof *path);
    f->n_path = (uint8_t)n_path;
    f->lane = (uint8_t)lane;
    f->bytes_total = bytes;
    f->remaining = bytes;
    f->rate = 0;
    f->last_ns = now;
    f->start_ns = now;
    f->done = done;
    f->ctx = ctx;
    f->mark = 0;             /* epochs start at 1: never "visited" */
    f->frozen = 0;
    dp_ev_init(&f->done_ev, flow_done_ev, n);
    f->min_done_ns = earliest_done(n, f);
    memset(f->refs, 0, sizeof f->refs);

    if (bytes == 0) {
        /* Nothing to share: it takes no bandwidth and ends at this instant,
         * after the events already due now. */
        rc = dp_evq_schedule(n->evq, &f->done_ev, now);
        if (rc)
            return rc;
    } else {
        struct net_scratch *s = scr(n);
        for (unsigned i = 0; i < n_path; i++) {
            struct dp_link *l = &n->links[path[i]];
            struct dp_flow_ref *r = ref_get(s);
            r->flow = f;
            r->lane = (uint8_t)lane;
            r->next = l->head;
            r->pprev = &l->head;
            if (l->head)
                l->head->pprev = &r->next;
            l->head = r;
            l->n_flows++;
            f->refs[i] = r;
            mark_dirty(n, path[i]);
        }
    }
    f->active = 1;
    n->n_flows_active++;
    return 0;
}

/* The completion event: take the flow off its links, account its bytes,
 * then hand it back. The owner may free or restart f inside done(). */
static void flow_done_ev(struct dp_ev *ev, void *ctx)
{
    struct dp_net *n = ctx;
    struct net_scratch *s = scr(n);
    struct dp_flow *f = FLOW_OF_EV(ev);
    uint64_t now = ev->t;

    assert(f->active && now >= f->last_ns);
    double left = f->remaining - f->rate * (double)(now - f->last_ns) / 1e9;
    /* The event is at ceil(remaining / rate): nothing material is left. */
    assert(left < TINY_BYTES + 1e-9 * f->bytes_total);
    for (unsigned i = 0; i < f->n_path; i++) {
        struct dp_flow_ref *r = f->refs[i];
        if (!r)
            continue;        /* a zero-byte flow was never on its links */
        struct dp_link *l = &n->links[f->path[i]];
        link_advance(l, now);
        l->bytes += left;    /* the flow carried exactly bytes_total */
        l->rate -= f->rate;  /* exact again at the settle due now */
        if (--l->n_flows == 0 || l->rate < 0)
            l->rate = 0;
        *r->pprev = r->next;
        if (r->next)
            r->next->pprev = r->pprev;
        ref_put(s, r);
        f->refs[i] = NULL;
        mark_dirty(n, f->path[i]);
    }
    f->remaining = 0;
    f->rate = 0;
    f->last_ns = now;
    f->active = 0;
    n->n_flows_active--;
    if (f->done)
        f->done(f, f->ctx);
    /* f belongs to its owner again: not one more access. */
}

/* ---- settle ------------------------------------------------------------ */

static void next_epoch(struct dp_net *n)
{
    if (++n->epoch != 0)
        return;
    /* Wrapped: a stale mark could equal a new epoch. Clear every mark that
     * can be reached (inactive flows get mark 0 again when started). */
    for (uint32_t i = 0; i < n->n_links; i++) {
        n->links[i].mark = 0;
        for (struct dp_flow_ref *r = n->links[i].head; r; r = r->next)
            r->flow->mark = 0;
    }
    n->epoch = 1;
}

/* Binary min-heap of links on key. Equal keys come out in an order fixed by
 * the (deterministic) order of pushes, so runs stay reproducible. */
static void heap_down(struct heap_ent *h, uint32_t n, uint32_t i)
{
    struct heap_ent e = h[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h[c + 1].key < h[c].key)
            c++;
        if (!(h[c].key < e.key))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = e;
}

/* First sight of a link in this settle: bring its bytes to now, open it. */
static inline void link_open(struct dp_net *n, uint32_t id, uint64_t now)
{
    struct dp_link *l = &n->links[id];
    struct link_fill *lf = &scr(n)->lf[id];
    l->mark = n->epoch;
    link_advance(l, now);
    lf->cap = l->bw;
    lf->used = 0;
    lf->floor = l->bw * RESIDUE_REL;
    for (unsigned k = 0; k < DP_LANES; k++)
        lf->cnt[k] = 0;
}

/* First sight of a flow: bring its remaining to now at its old rate. */
static inline void flow_open(struct dp_net *n, struct dp_flow *f, uint64_t now)
{
    f->mark = n->epoch;
    f->frozen = 0;
    assert(now >= f->last_ns);
    if (f->rate > 0 && now != f->last_ns)
        f->remaining -= f->rate * (double)(now - f->last_ns) / 1e9;
    f->last_ns = now;
    if (f->remaining < 0) {
        /* Overshoot past the rounded-up completion: its links counted it;
         * take it back so they carry exactly bytes_total. (Adding before
         * or after a link's own advance to now is the same sum.) */
        for (unsigned k = 0; k < f->n_path; k++)
            n->links[f->path[k]].bytes += f->remaining;
        f->remaining = 0;
    }
}

/* Collect the component around link root, breadth first (comp[] is the
 * queue), opening every link and flow in it and counting each lane's flows
 * per link. Returns the link count; flows go to s->flows, per-lane totals to
 * per_lane[]. */
static uint32_t gather(struct dp_net *n, uint32_t root, uint64_t now,
                       size_t *nf_out, size_t *per_lane)
{
    struct net_scratch *s = scr(n);
    const uint32_t ep = n->epoch;
    uint32_t nl = 0;
    size_t nf = 0;

    link_open(n, root, now);
    s->comp[nl++] = root;
    for (uint32_t i = 0; i < nl; i++) {
        for (struct dp_flow_ref *r = n->links[s->comp[i]].head; r; r = r->next) {
            struct dp_flow *f = r->flow;
            if (f->mark == ep)
                continue;
            flow_open(n, f, now);
            s->flows[nf++] = f;
            per_lane[f->lane]++;
            for (unsigned k = 0; k < f->n_path; k++) {
                uint32_t id = f->path[k];
                if (n->links[id].mark != ep) {
                    link_open(n, id, now);
                    s->comp[nl++] = id;
                }
                s->lf[id].cnt[f->lane]++;
            }
        }
    }
    *nf_out = nf;
    return nl;
}

/* When the flow, at its new rate, completes: never before its floor. */
static uint64_t done_time(const struct dp_flow *f, uint64_t now)
{
    uint64_t t = now;
    if (f->remaining >= TINY_BYTES)
        t = add_ceil_ns(now, f->remaining / f->rate * 1e9);
    return t > f->min_done_ns ? t : f->min_done_ns;
}

/* The flow's final rate for this settle: move its completion if needed. */
static inline void set_rate(struct dp_net *n, struct dp_flow *f, double rate,
                            uint64_t now)
{
    int pending = dp_ev_pending(&f->done_ev);
    double old = f->rate;
    f->rate = rate;
    if (rate == 0) {
        /* Starved by a higher lane: no completion until it gets bw. */
        if (pending)
            dp_evq_cancel(n->evq, &f->done_ev);
    } else if (rate != old || !pending) {
        if (dp_evq_schedule(n->evq, &f->done_ev, done_time(f, now)))
            n->err = DP_ENOMEM;   /* cannot happen after the reserve */
    }
}

/* Freeze every unfrozen lane flow on link id at share sh. Returns how many. */
static size_t freeze_link(struct dp_net *n, uint32_t id, unsigned lane,
                          double sh, uint64_t now)
{
    struct link_fill *lf = scr(n)->lf;
    size_t frozen = 0;
    for (struct dp_flow_ref *r = n->links[id].head; r; r = r->next) {
        if (r->lane != lane)
            continue;
        struct dp_flow *f = r->flow;
        if (f->frozen)
            continue;
        f->frozen = 1;
        frozen++;
        for (unsigned k = 0; k < f->n_path; k++) {
            struct link_fill *m = &lf[f->path[k]];
            m->cap -= sh;
            m->used += sh;
            m->cnt[lane]--;
        }
        set_rate(n, f, sh, now);
    }
    return frozen;
}

static inline double fair_share(const struct link_fill *lf, unsigned lane)
{
    return lf->cap > lf->floor ? lf->cap / lf->cnt[lane] : 0.0;
}

/* Progressive filling of one lane (nf_lane flows) over the capacity the
 * earlier lanes left. Stops as soon as every flow of the lane is frozen, so
 * links that were never a bottleneck are not popped one by one. */
static void fill_lane(struct dp_net *n, uint32_t nl, unsigned lane,
                      size_t nf_lane, uint64_t now)
{
    struct net_scratch *s = scr(n);
    struct link_fill *lf = s->lf;
    struct heap_ent *h = s->heap;

    uint32_t hn = 0;
    for (uint32_t i = 0; i < nl; i++) {
        uint32_t id = s->comp[i];
        if (lf[id].cnt[lane]) {
            h[hn].key = fair_share(&lf[id], lane);
            h[hn].id = id;
            hn++;
        }
    }
    for (uint32_t i = hn / 2; i-- > 0;)
        heap_down(h, hn, i);

    while (nf_lane && hn) {
        struct heap_ent top = h[0];
        struct link_fill *l = &lf[top.id];
        if (!l->cnt[lane]) {     /* all its flows were frozen elsewhere */
            h[0] = h[--hn];
            heap_down(h, hn, 0);
            continue;
        }
        double sh = fair_share(l, lane);
        if (sh > top.key) {      /* grew since keyed: maybe not the min */
            h[0].key = sh;
            heap_down(h, hn, 0);
            continue;
        }
        h[0] = h[--hn];
        heap_down(h, hn, 0);
        nf_lane -= freeze_link(n, top.id, lane, sh, now);
        assert(l->cnt[lane] == 0);
    }
    assert(nf_lane == 0);        /* an unfrozen flow keeps its links queued */
}

#ifndef NDEBUG
static void check_component(const struct dp_net *n, size_t nf, uint32_t nl)
{
    const struct net_scratch *s = scr(n);
    for (uint32_t i = 0; i < nl; i++) {
        const struct dp_link *l = &n->links[s->comp[i]];
        double sum = 0;
        for (const struct dp_flow_ref *r = l->head; r; r = r->next)
            sum += r->flow->rate;
        assert(sum <= l->bw * (1 + 1e-9));
        assert(l->rate >= 0 && l->rate <= l->bw * (1 + 1e-9));
    }
    for (size_t i = 0; i < nf; i++) {
        const struct dp_flow *f = s->flows[i];
        assert(f->active && f->frozen && f->rate >= 0);
        if (f->rate > 0)
            continue;
        /* Rate 0 only for a lower lane on a link the higher lanes fill. */
        int starved = 0;
        for (unsigned k = 0; k < f->n_path; k++) {
            const struct dp_link *l = &n->links[f->path[k]];
            starved |= l->rate >= l->bw * (1 - 2 * RESIDUE_REL);
        }
        assert(f->lane > 0 && starved);
        (void)starved;
    }
}
#else
#define check_component(n, nf, nl) ((void)0)
#endif

static void settle_component(struct dp_net *n, uint32_t root, uint64_t now)
{
    struct net_scratch *s = scr(n);
    size_t nf, per_lane[DP_LANES] = {0};
    uint32_t nl = gather(n, root, now, &nf, per_lane);

    for (unsigned lane = 0; lane < DP_LANES; lane++)
        if (per_lane[lane])
            fill_lane(n, nl, lane, per_lane[lane], now);
    for (uint32_t i = 0; i < nl; i++) {
        struct dp_link *l = &n->links[s->comp[i]];
        double used = s->lf[s->comp[i]].used;
        l->rate = l->n_flows && used > 0 ? used : 0;
    }
    check_component(n, nf, nl);
    n->recomputes++;
}

void dp_net_settle(struct dp_net *n, uint64_t now)
{
    if (!n->n_dirty)
        return;
    /* Room for every flow's completion, so no schedule below can fail. */
    uint64_t want = (uint64_t)n->evq->n + n->n_flows_active;
    if (want >= DP_EV_IDLE ||
        dp_evq_reserve(n->evq, (uint32_t)want))
        n->err = DP_ENOMEM;
    next_epoch(n);
    for (uint32_t i = 0; i < n->n_dirty; i++) {
        uint32_t id = n->dirty[i];
        if (n->links[id].mark != n->epoch)
            settle_component(n, id, now);
    }
    for (uint32_t i = 0; i < n->n_dirty; i++)
        n->links[n->dirty[i]].dirty = 0;
    n->n_dirty = 0;
}
