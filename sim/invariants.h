/* Invariants of a simulated run, checked as it goes.
 *
 * On in builds without NDEBUG, and in any build when the environment has
 * DUALPATH_CHECK=1 (DUALPATH_CHECK=0 turns it off in a debug build). The
 * event loop (sim/run.c) calls the checks; the first violation stops the
 * run with DP_ESTATE and a message naming what broke where and when.
 *
 *  - time: simulated time never goes back (every event popped is at or
 *    after the previous one).
 *  - links, after every settle: no link's rate exceeds its bandwidth, and
 *    the bytes each link carried since the previous settle fit in
 *    bandwidth x elapsed time (relative 1e-9, plus the 1 ns by which a
 *    completion is rounded up).
 *  - memory, after every event: every engine's HBM and DRAM use is >= 0
 *    and <= its capacity, with one documented exception. Core lets ONE
 *    request exceed an empty engine's capacity so that nothing waits
 *    forever (core/storage_io.c core_read_pump, core/decode.c
 *    core_admit_pump, core/prefill.c select_batch: the "empty" cases). So
 *    use above capacity is allowed only while that request is the sole
 *    occupant: on a decode engine's HBM, exactly one request running or
 *    moving in; on DRAM and a prefill engine's HBM, where the occupants are
 *    not countable from the engine, use may not exceed the largest single
 *    request of the workload (its whole context and output in KV bytes),
 *    which holds only if no second request joined it.
 *  - at the end of a run that finished (not interrupted, not cut by
 *    run.max_time_s): every request completed exactly once (ids and
 *    (session, turn) pairs unique, as many records as the workload's
 *    turns), each record's timestamps in order, every engine's queues and
 *    memory empty again, and bytes conserved: each engine's storage NIC
 *    read exactly the KV its requests needed over its path (cached tokens
 *    on the PE path for a PE, on the DE path for a DE; nothing under a
 *    storage_unlimited policy), its PCIe host-to-device link moved the same
 *    KV into HBM, and its storage NIC wrote exactly the new blocks back
 *    (closed-loop workloads), to within the bytes truncated per transfer.
 *
 * Cost: the link check is O(links) per settle and the memory check
 * O(engines) per event, about 2x on a small scenario: meant for tests,
 * debug builds and DUALPATH_CHECK=1 runs, not for the 10,000-GPU bench. */
#ifndef DP_INVARIANTS_H
#define DP_INVARIANTS_H

#include <stdint.h>

#include "core/core.h"
#include "core/engine.h"
#include "base/errors.h"
#include "core/metrics.h"
#include "sim/links.h"
#include "traces/workload.h"

struct dp_sim;

struct dp_inv {
    uint64_t last_t;             /* time of the previous event, ns */
    uint64_t link_t;             /* time of the previous link check, ns */
    double *link_bytes;          /* [n_links] bytes at the previous link check */
    uint32_t n_links;
    double max_req_bytes;        /* largest single request's KV (input + output) */
    double kv_tok;
    /* counts */
    uint64_t events, link_checks, engine_checks;
    uint64_t violations;
    char first[512];             /* the first violation */
};

/* 1 when checks are on for this build and environment. */
int dp_inv_wanted(void);

/* Prepare for a run of workload w with KV bytes per token kv_tok. 0 or DP_ENOMEM. */
int dp_inv_init(struct dp_inv *iv, const struct dp_workload *w, double kv_tok);
void dp_inv_free(struct dp_inv *iv);

/* Each returns the number of violations found by this call (0 = fine) and
 * records the first one in iv->first. */
/* An event at t is about to be handled. */
int dp_inv_time(struct dp_inv *iv, uint64_t t);
/* The net was just settled at now. */
int dp_inv_links(struct dp_inv *iv, const struct dp_net *net, uint64_t now);
/* After an event: the engines' memory. */
int dp_inv_engines(struct dp_inv *iv, const struct dp_engine *e, uint32_t n, uint64_t now);
/* After a finished run: requests, engines drained, bytes conserved. */
int dp_inv_end(struct dp_inv *iv, const struct dp_sim *s, const struct dp_core *core,
               const struct dp_workload *w, const struct dp_metrics *m);

/* The parts of dp_inv_end, for tests: records (want of them; full = the
 * whole workload finished), and bytes conserved on s's links. */
int dp_inv_records(struct dp_inv *iv, const struct dp_metrics *m, uint64_t want, int full);
int dp_inv_bytes(struct dp_inv *iv, const struct dp_sim *s, const struct dp_workload *w,
                 const struct dp_metrics *m);

/* DP_ESTATE with "invariant violated: FIRST (N violations)" in err. */
int dp_inv_error(const struct dp_inv *iv, struct dp_err *err);

#endif
