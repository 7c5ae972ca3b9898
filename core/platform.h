/* The seam between core/ and a platform (the simulator, the hardware shim,
 * a scripted fake in tests).
 *
 * Core is a single-threaded event-driven state machine: it never reads a
 * clock, sleeps, allocates device memory or touches a socket. Everything it
 * asks of a cluster goes through struct dp_platform_ops; everything the
 * cluster reports comes back through the dp_core_on_*() calls in core.h.
 *
 * The rules (core checks the platform's side as it runs and stops the run
 * with a DP_ESTATE error naming the rule broken; tests/unit/test_conformance.c
 * runs every platform of the build against them):
 *  1. Every op core issues (move, compute, timer) that the platform accepts
 *     (returns 0) completes exactly once, by one dp_core_on_*() call, unless
 *     the run stops first. A refused op (nonzero return) never completes.
 *  2. Never re-entrant: a completion comes from the platform's own loop or
 *     event queue, never from inside an op call (move, compute, timer,
 *     release) -- the platform schedules it.
 *  3. Status: core sets `status` to DP_STATUS_PENDING when it issues a
 *     transfer or compute; the platform sets 0 (done) or a negative DP_E*
 *     code (failed) before completing it. A failed transfer or compute comes
 *     back to core, which retries it where it has another path (a storage
 *     read over the other engine's storage NIC) or fails the requests it
 *     carried, alone: never the run.
 *  4. A request's life: ops name a request (dp_xfer.req, .reqs, and
 *     dp_compute.reqs) from its issue on; after its last use core calls
 *     release(plat, req) exactly once, and no later op names it (the object
 *     may then be reused for another request, with another id). Requests
 *     still live when a run stops early are released by dp_core_destroy(),
 *     so destroy the core before the platform.
 *
 * Descriptors (struct dp_xfer, struct dp_compute, struct dp_timer) are owned
 * by core and stay valid until their completion callback returns; after it
 * returns the platform must not touch them (the callback may release the
 * request a descriptor is part of). Each has a `plat` pointer the platform
 * may use for its own bookkeeping; a request has one too (dp_request.plat,
 * NULL at issue, the platform's until release). */
#ifndef DP_PLATFORM_H
#define DP_PLATFORM_H

#include <stdint.h>

#include "models/model.h"

typedef uint64_t dp_time_t;     /* nanoseconds since the run started */

struct dp_request;

/* Where bytes live. */
enum dp_tier {
    DP_TIER_STORAGE = 0,        /* the external KV store (3FS) */
    DP_TIER_DRAM = 1,           /* an engine's host DRAM buffer */
    DP_TIER_HBM = 2,            /* an engine's GPU memory */
};

/* Traffic lanes: strict priority, lower number first. Model traffic (the
 * collectives of each step) rides DP_LANE_MODEL; every KV-Cache byte rides
 * DP_LANE_KV. With isolation off every transfer goes in one lane. */
enum dp_lane { DP_LANE_MODEL = 0, DP_LANE_KV = 1, DP_N_LANES = 2 };

enum dp_xfer_kind {
    DP_X_STORAGE_READ = 0,      /* storage -> DRAM of dst.engine (its storage NIC) */
    DP_X_STORAGE_WRITE = 1,     /* DRAM/HBM of src.engine -> storage */
    DP_X_KV = 2,                /* KV between tiers/engines (PCIe, compute NIC) */
    DP_X_COLLECTIVE = 3,        /* a step's all-to-all among the engine's GPUs */
};

struct dp_loc {
    int32_t engine;             /* engine index, -1 for storage */
    uint8_t tier;               /* enum dp_tier */
};

/* dp_xfer.status / dp_compute.status while an op is in flight (rule 3). */
#define DP_STATUS_PENDING 1

struct dp_xfer {
    uint8_t kind;               /* enum dp_xfer_kind */
    uint8_t lane;               /* enum dp_lane */
    int8_t status;              /* set by the platform: 0 ok, <0 a DP_E* code */
    uint8_t busy;               /* core's own: issued, not yet completed */
    uint16_t tag;               /* core's own: which step this move is */
    dp_time_t t_issue;          /* core's own: when it was handed over */
    struct dp_loc src, dst;
    uint64_t bytes;
    /* What is moved, for platforms that move real bytes: the request whose
     * KV this is, its block range [block_lo, block_hi) and layer range
     * [layer_lo, layer_hi). A collective carries req = NULL. */
    struct dp_request *req;
    uint32_t block_lo, block_hi;
    uint32_t layer_lo, layer_hi;
    /* A layer load of a prefill batch moves one layer of several requests'
     * cached blocks from one source: reqs[0..n_reqs) (req is NULL then);
     * each request's blocks on that source are named by its own fields. */
    struct dp_request **reqs;
    uint32_t n_reqs;
    void *owner;                /* core's back pointer */
    void *plat;                 /* platform's scratch */
};

enum dp_compute_kind { DP_C_PREFILL_LAYER = 0, DP_C_DECODE_STEP = 1 };

struct dp_compute {
    uint8_t kind;               /* enum dp_compute_kind */
    int8_t status;              /* set by the platform: 0 ok, <0 a DP_E* code */
    uint8_t busy;               /* core's own: issued, not yet completed */
    uint16_t tag;               /* core's own */
    int32_t engine;
    uint32_t layer;             /* prefill: which layer */
    struct dp_prefill_shape shape;  /* prefill: the batch's sums */
    uint32_t batch;             /* decode: requests in the step */
    uint64_t ctx_tokens;        /* decode: sum of their contexts */
    struct dp_request **reqs;   /* the batch (platforms may verify their KV) */
    uint32_t n_reqs;
    void *owner;
    void *plat;
};

struct dp_timer {
    dp_time_t at;
    uint32_t kind;              /* core's own meaning */
    uint8_t busy;               /* core's own: armed, not yet fired */
    void *owner;
    void *plat;
};

/* Cumulative bytes an engine's links have carried (for utilisation). */
struct dp_link_counters {
    double snic_rx, snic_tx;    /* storage NIC: reads in, writes out */
    double cnic_rx, cnic_tx;    /* compute NICs */
    double pcie_h2d, pcie_d2h;
};

/* Define a table with named initializers; the ops marked optional may be
 * left out (NULL): core then uses a no-op default. */
struct dp_platform_ops {
    const char *name;
    dp_time_t (*now)(void *plat);
    /* Move bytes; completion via dp_core_on_transfer_done(). */
    int (*move)(void *plat, struct dp_xfer *x);
    /* Run a compute op; completion via dp_core_on_compute_done(). */
    int (*compute)(void *plat, struct dp_compute *c);
    /* Call dp_core_on_timer() at t->at (or now, if that has passed). */
    int (*timer)(void *plat, struct dp_timer *t);
    /* Link counters of one engine. */
    void (*counters)(void *plat, int32_t engine, struct dp_link_counters *out);
    /* Optional. The request's life has ended (rule 4): free what the
     * platform keeps for it. Called once per request, never re-entrant. */
    void (*release)(void *plat, struct dp_request *req);
};

#endif
