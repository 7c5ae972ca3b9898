/* An engine as core sees it: its role, its capacities, its queues. Policies
 * read these fields to choose engines and paths (core/policy.h). */
#ifndef DP_ENGINE_H
#define DP_ENGINE_H

#include <stdint.h>

#include "base/fifo.h"
#include "core/platform.h"
#include "models/model.h"

enum dp_role { DP_ROLE_PREFILL = 0, DP_ROLE_DECODE = 1 };

struct dp_batch;

struct dp_engine {
    int32_t id;                 /* global engine index (PEs first, then DEs) */
    uint8_t role;
    struct dp_engine_hw hw;

    /* Storage reads into this engine's DRAM buffer (both roles read). */
    struct dp_fifo read_q;      /* struct dp_xfer * waiting to be issued */
    uint32_t reads_inflight;
    double read_q_bytes;        /* queued + in flight: the "read queue length" */
    double dram_used, dram_cap;
    double hbm_used, hbm_cap;   /* KV bytes in HBM, and the room for KV */

    /* Prefill engines. */
    struct dp_fifo ready_q;     /* struct dp_request * with their KV in DRAM */
    uint64_t pending_tokens;    /* new tokens routed here and not yet prefilled */
    struct dp_batch *batch;     /* the batch in progress, or NULL */
    uint64_t batches;

    /* Decode engines. */
    struct dp_fifo admit_q;     /* requests waiting for HBM room to start handoff */
    struct dp_request **running;
    uint32_t n_running;
    size_t cap_running;
    uint32_t n_incoming;        /* admitted, KV still moving in */
    uint64_t ctx_tokens;        /* sum of running contexts */
    int stepping;
    struct dp_compute step;
    struct dp_xfer step_a2a;
    double step_a2a_bytes;
    int step_parts;             /* compute + collective outstanding */
    int step_failed;            /* a part of the step failed (decode.c) */
    uint64_t steps;
};

#endif
