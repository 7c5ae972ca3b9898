/* Indexed 4-ary min-heap of intrusive events keyed by (t, seq).
 *
 * 4-ary rather than binary: half the depth, and the four children of a node
 * sit in one cache line of the pointer array, so sift-down (pop, and the
 * common "flow slowed down" reschedule) touches fewer lines. Every event
 * stores its slot, so cancel and reschedule need no search. */
#include "base/evq.h"

#include <stdlib.h>

#include "base/errors.h"

#define EVQ_ARITY 4
#define EVQ_MIN_CAP 64

typedef struct dp_evq_ent ent;
static inline int ent_before(const ent *a, const ent *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static inline void put(struct dp_evq *q, uint32_t i, ent e)
{
    q->heap[i] = e;
    e.ev->slot = i;
}

static void sift_up(struct dp_evq *q, uint32_t i, ent e)
{
    while (i > 0) {
        uint32_t p = (i - 1) / EVQ_ARITY;
        if (!ent_before(&e, &q->heap[p]))
            break;
        put(q, i, q->heap[p]);
        i = p;
    }
    put(q, i, e);
}

static void sift_down(struct dp_evq *q, uint32_t i, ent e)
{
    uint32_t n = q->n;
    for (;;) {
        uint32_t c = i * EVQ_ARITY + 1;
        if (c >= n)
            break;
        uint32_t end = c + EVQ_ARITY < n ? c + EVQ_ARITY : n;
        uint32_t m = c;
        for (uint32_t k = c + 1; k < end; k++)
            if (ent_before(&q->heap[k], &q->heap[m]))
                m = k;
        if (!ent_before(&q->heap[m], &e))
            break;
        put(q, i, q->heap[m]);
        i = m;
    }
    put(q, i, e);
}

static void resettle(struct dp_evq *q, uint32_t i, ent e)
{
    if (i > 0 && ent_before(&e, &q->heap[(i - 1) / EVQ_ARITY]))
        sift_up(q, i, e);
    else
        sift_down(q, i, e);
}

static inline ent ent_of(struct dp_ev *ev) { return (ent){ ev->t, ev->seq, ev }; }

int dp_evq_init(struct dp_evq *q)
{
    q->heap = NULL;
    q->n = q->cap = 0;
    q->next_seq = 0;
    q->popped = 0;
    return dp_evq_reserve(q, EVQ_MIN_CAP);
}

void dp_evq_free(struct dp_evq *q)
{
    /* Leave pending events consistent: their owners may still ask. */
    for (uint32_t i = 0; i < q->n; i++)
        q->heap[i].ev->slot = DP_EV_IDLE;
    free(q->heap);
    q->heap = NULL;
    q->n = q->cap = 0;
}

int dp_evq_reserve(struct dp_evq *q, uint32_t n)
{
    if (n <= q->cap)
        return 0;
    if (n == DP_EV_IDLE)            /* slot numbers must stay below IDLE */
        return DP_ENOMEM;
    uint64_t cap = q->cap ? q->cap : EVQ_MIN_CAP;
    while (cap < n)
        cap *= 2;
    if (cap >= DP_EV_IDLE)
        cap = DP_EV_IDLE - 1;
    ent *h = realloc(q->heap, (size_t)cap * sizeof *h);
    if (!h)
        return DP_ENOMEM;
    q->heap = h;
    q->cap = (uint32_t)cap;
    return 0;
}

int dp_evq_schedule(struct dp_evq *q, struct dp_ev *ev, uint64_t t)
{
    if (ev->slot != DP_EV_IDLE) {
        /* A fresh seq: a moved event goes after those already at t. */
        ev->t = t;
        ev->seq = q->next_seq++;
        resettle(q, ev->slot, ent_of(ev));
        return 0;
    }
    if (q->n == q->cap) {
        int rc = dp_evq_reserve(q, q->n + 1);
        if (rc)
            return rc;
    }
    ev->t = t;
    ev->seq = q->next_seq++;
    sift_up(q, q->n++, ent_of(ev));
    return 0;
}

void dp_evq_cancel(struct dp_evq *q, struct dp_ev *ev)
{
    uint32_t i = ev->slot;
    if (i == DP_EV_IDLE)
        return;
    ev->slot = DP_EV_IDLE;
    ent last = q->heap[--q->n];
    if (i != q->n)
        resettle(q, i, last);
}

struct dp_ev *dp_evq_pop(struct dp_evq *q)
{
    if (!q->n)
        return NULL;
    struct dp_ev *top = q->heap[0].ev;
    ent last = q->heap[--q->n];
    if (q->n)
        sift_down(q, 0, last);
    top->slot = DP_EV_IDLE;
    q->popped++;
    return top;
}
