/* Flow-level bandwidth sharing over links.
 *
 * A link is one direction of one resource (a NIC's transmit side, a PCIe
 * direction, the storage backend). A flow moves a number of bytes along a
 * path of up to DP_PATH_MAX links in one lane. Rates follow max-min fairness
 * with strict priority between lanes: lane 0 flows are water-filled over the
 * full link capacities first, lane 1 over what lane 0 left, and so on.
 *
 * Rates are recomputed lazily: starting or ending a flow marks its links
 * dirty; dp_net_settle() (called by the simulator loop once per distinct
 * timestamp, before time advances) recomputes the rates of every flow in the
 * connected components touching dirty links and reschedules their completion
 * events. Many flows changing at one instant cost one recompute.
 *
 * Loop contract. `now` is the time of the event being handled; flows start
 * and end only at `now`. The loop must settle while the net is dirty before
 * the clock moves past `now`, and may defer it until then so that all the
 * events of one instant share one recompute:
 *
 *     for (;;) {
 *         struct dp_ev *ev = dp_evq_peek(q);
 *         if (dp_net_dirty(net) && (!ev || ev->t > now)) {
 *             dp_net_settle(net, now);   // may schedule events at >= now
 *             continue;
 *         }
 *         if (!ev) break;
 *         ev = dp_evq_pop(q);
 *         now = ev->t;
 *         ev->fn(ev, ev->ctx);
 *     }
 *
 * Settling more often (before every pop while dirty) is also correct, only
 * slower. Deferring is exact: a flow whose completion is due at `now` ends at
 * `now` whatever the new rates are, and the others' rates only matter once
 * time advances. Completion events are rounded up to whole ns and never fall
 * before start + bytes / (narrowest bw on the path).
 *
 * Strict priority means starvation: a lower-lane flow on a link the higher
 * lanes fill has rate 0 and no pending completion until bandwidth frees up.
 *
 * Counters: `recomputes` counts components recomputed (one settle may do
 * several, one per connected component touching a dirty link). */
#ifndef DP_LINKS_H
#define DP_LINKS_H

#include <stdint.h>
#include <stddef.h>

#include "base/evq.h"

#define DP_PATH_MAX 4
#define DP_LANES 2

struct dp_flow;
typedef void (*dp_flow_done_fn)(struct dp_flow *f, void *ctx);

struct dp_link {
    double bw;               /* bytes/s, > 0 */
    double rate;             /* sum of current flow rates */
    double bytes;            /* bytes carried up to last_ns */
    uint64_t last_ns;
    uint32_t n_flows;        /* active flows crossing this link */
    /* intrusive list of flows crossing the link (see links.c) */
    struct dp_flow_ref *head;
    uint32_t mark;           /* component search scratch */
    uint8_t dirty;
    char name[48];
};

struct dp_flow {
    uint32_t path[DP_PATH_MAX]; /* link ids */
    uint8_t n_path;
    uint8_t lane;            /* 0 = highest priority */
    /* internal, kept in the padding here so that a settle finds them in the
     * same cache line as path, remaining and rate */
    uint8_t frozen;
    uint8_t active;
    uint32_t mark;
    double bytes_total;
    double remaining;        /* bytes left as of last_ns */
    double rate;             /* bytes/s */
    uint64_t last_ns;
    uint64_t start_ns;
    struct dp_ev done_ev;    /* fires when remaining reaches 0 */
    dp_flow_done_fn done;
    void *ctx;
    /* internal */
    uint64_t min_done_ns;    /* start + bytes / narrowest bw: completion floor */
    struct dp_flow_ref *refs[DP_PATH_MAX];
};

struct dp_net {
    struct dp_link *links;
    uint32_t n_links, cap_links;
    struct dp_evq *evq;
    uint32_t epoch;          /* component-search generation */
    uint32_t n_dirty;
    uint32_t *dirty;         /* dirty link ids */
    uint32_t cap_dirty;
    uint64_t n_flows_active;
    uint64_t recomputes;     /* statistics: components recomputed */
    int err;                 /* sticky: DP_ENOMEM if a settle could not make
                              * room for completion events (run invalid) */
    /* scratch arrays reused by settle */
    void *scratch;
};

int dp_net_init(struct dp_net *n, struct dp_evq *q);
/* Frees the net's memory. Flows still active are forgotten, not completed:
 * their done_ev may still sit in the evq. */
void dp_net_free(struct dp_net *n);
/* Add a link of bw bytes/s; returns its id (>= 0) or a negative DP_E code
 * (DP_EINVAL for bw <= 0, NaN or infinite). */
int dp_net_add_link(struct dp_net *n, const char *name, double bw);

/* Start moving `bytes` along path[0..n_path) in lane at time now. The flow
 * struct is owned by the caller and must stay alive until done() is called
 * (after which the net no longer references it; done() may free f or start
 * it again). f must not be active. A zero-byte flow takes no bandwidth and
 * completes at `now`, after the events already due then. done may be NULL.
 * Returns 0, or DP_EINVAL (n_path not 1..DP_PATH_MAX, an unknown or repeated
 * link, lane >= DP_LANES, bytes negative or not finite) or DP_ENOMEM, with
 * nothing changed. */
int dp_flow_start(struct dp_net *n, struct dp_flow *f, const uint32_t *path,
                  unsigned n_path, unsigned lane, double bytes, uint64_t now,
                  dp_flow_done_fn done, void *ctx);

/* Recompute rates where links are dirty; reschedule completions. Never
 * allocates except to grow the evq; if that fails, n->err is set. */
void dp_net_settle(struct dp_net *n, uint64_t now);
static inline int dp_net_dirty(const struct dp_net *n) { return n->n_dirty != 0; }

/* Cumulative bytes a link has carried up to now. */
double dp_link_bytes(struct dp_net *n, uint32_t link, uint64_t now);

#endif
