/* One request: one turn of one session, from issue to its KV written back.
 *
 * Its states and every transition, with the function that makes it (all in
 * core/; nothing outside core/ reads or sets the state):
 *
 *   (issue)   -> READING    issue_turn (core.c): routed, reads queued on the
 *                           PE's and/or the DE's storage NIC
 *   READING   -> READY      core_prefill_ready (prefill.c): every read landed
 *                           (at once when nothing is cached, or under Oracle)
 *   READING   -> READING    core_read_done (storage_io.c): a failed read is
 *                           retried once over the other engine's storage NIC
 *   READY     -> PREFILL    batch_start (prefill.c): taken into a batch
 *   PREFILL   -> HANDOFF    core_handoff_start (decode.c), from batch_done
 *   HANDOFF   -> DECODE     join_running (decode.c): every handoff move landed
 *   DECODE    -> WRITEBACK  core_write_back (storage_io.c), from finish: its
 *                           last token is out (recorded, next turn scheduled)
 *   WRITEBACK -> FREE       core_request_release (core.c), from
 *                           core_write_done: the new KV is in storage (or
 *                           there was none to write)
 *   READING, PREFILL, HANDOFF, DECODE -> FAILED
 *                           core_request_abort (core.c): a read failed twice,
 *                           or a transfer / compute carrying it failed; it
 *                           leaves at the end of its stage (the reads, the
 *                           batch, the handoff, the step), recorded as failed,
 *                           its session ended
 *   FAILED    -> FREE       core_request_release, at once
 *   (any)     -> FREE       dp_core_destroy: a run stopped early releases
 *                           the requests still live
 *
 * FREE is the end: the platform's release op has been called (once), and
 * the object waits on the free list to be reused for a new request. */
#ifndef DP_REQUEST_H
#define DP_REQUEST_H

#include <stdint.h>

#include "core/platform.h"

enum dp_req_state {
    DP_RS_READING = 0,   /* storage reads queued or in flight */
    DP_RS_READY,         /* KV in DRAM buffers, waiting for a prefill batch */
    DP_RS_PREFILL,       /* in a prefill batch */
    DP_RS_HANDOFF,       /* waiting for / moving KV to the decode engine */
    DP_RS_DECODE,        /* in the decode engine's running set */
    DP_RS_WRITEBACK,     /* finished; its new KV is being written to storage */
    DP_RS_FAILED,        /* left early: recorded as failed, about to be released */
    DP_RS_FREE,          /* released (ops->release called); on the free list */
};

struct dp_request {
    uint64_t id;
    uint32_t sess;              /* index of the session in the workload */
    uint32_t turn;
    uint8_t state;
    uint8_t failed;
    uint32_t input_tokens;      /* whole context of this turn */
    uint32_t cached_blocks;     /* prefix blocks found in storage */
    uint32_t de_blocks;         /* of those, read over the decode engine's path */
    uint32_t new_tokens;        /* computed by prefill */
    uint32_t output_tokens;
    uint32_t tokens_out;        /* generated so far (the first by prefill) */
    uint32_t block_tokens;
    int32_t pe, de;
    uint8_t reads_pending;
    uint8_t moves_pending;
    uint8_t retries;
    double kv_tok;              /* KV bytes per token, all layers */
    double hbm_de;              /* bytes reserved on the decode engine */
    double hbm_pe;              /* bytes reserved on the prefill engine (new KV) */
    double dram_pe, dram_de;    /* bytes held in the DRAM buffers */

    dp_time_t t_issue, t_ready, t_prefill, t_first, t_decode, t_done;

    struct dp_xfer rd[2];       /* storage reads: [0] to the PE, [1] to the DE */
    struct dp_xfer mv[2];       /* handoff: [0] PE -> DE over CNIC, [1] DE DRAM -> DE HBM */
    struct dp_xfer wr;          /* write-back of the new KV */
    uint64_t rec;               /* index of its record in the metrics, once finished */
    void *plat;                 /* the platform's own, NULL at issue (platform.h) */
    struct dp_request *next_free;
};

static inline uint32_t dp_req_pe_blocks(const struct dp_request *r)
{
    return r->cached_blocks - r->de_blocks;
}
static inline uint64_t dp_req_cached_tokens(const struct dp_request *r)
{
    return (uint64_t)r->cached_blocks * r->block_tokens;
}

#endif
