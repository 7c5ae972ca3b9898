/* The event queue (the simulator's events, the hardware shim's timers): an
 * indexed 4-ary min-heap of intrusive events keyed by (time ns, sequence
 * number). The sequence number is assigned at push/update, so events at
 * equal times pop in the order they were scheduled: runs are deterministic.
 * An event knows its heap slot, so rescheduling (a flow whose rate changed)
 * and cancelling are O(log n) without leaving stale entries behind. */
#ifndef DP_EVQ_H
#define DP_EVQ_H

#include <stdint.h>
#include <stddef.h>

struct dp_ev;
typedef void (*dp_ev_fn)(struct dp_ev *ev, void *ctx);

struct dp_ev {
    uint64_t t;          /* ns */
    uint64_t seq;
    uint32_t slot;       /* index in the heap, or DP_EV_IDLE */
    dp_ev_fn fn;
    void *ctx;
};

#define DP_EV_IDLE UINT32_MAX

struct dp_evq_ent { uint64_t t, seq; struct dp_ev *ev; };
struct dp_evq {
    struct dp_evq_ent *heap;
    uint32_t n, cap;
    uint64_t next_seq;
    uint64_t popped;     /* events delivered so far */
};

int dp_evq_init(struct dp_evq *q);
void dp_evq_free(struct dp_evq *q);
/* Make room for n events in all, so that the next schedule calls up to that
 * size cannot fail (the link model reserves before a settle). 0 or DP_ENOMEM. */
int dp_evq_reserve(struct dp_evq *q, uint32_t n);
static inline void dp_ev_init(struct dp_ev *ev, dp_ev_fn fn, void *ctx)
{
    ev->t = 0; ev->seq = 0; ev->slot = DP_EV_IDLE; ev->fn = fn; ev->ctx = ctx;
}
static inline int dp_ev_pending(const struct dp_ev *ev) { return ev->slot != DP_EV_IDLE; }
/* Schedule ev at t (or move it there if already scheduled). 0 or DP_ENOMEM. */
int dp_evq_schedule(struct dp_evq *q, struct dp_ev *ev, uint64_t t);
void dp_evq_cancel(struct dp_evq *q, struct dp_ev *ev);
/* The earliest event, or NULL; pop removes it (slot becomes DP_EV_IDLE). */
static inline struct dp_ev *dp_evq_peek(const struct dp_evq *q) { return q->n ? q->heap[0].ev : NULL; }
struct dp_ev *dp_evq_pop(struct dp_evq *q);

#endif
