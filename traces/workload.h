/* The workload: sessions of turns, as every trace reader and the synthetic
 * generator produce it and as core/ consumes it. Plain data, no functions
 * beyond construction helpers in workload.c, so core/ may include it.
 *
 * Two kinds of session share this shape:
 *  - agent sessions (closed loop): turn k+1 is issued when turn k's last
 *    token is out, plus the turn's think_ns (tool or user time); the KV of a
 *    turn's whole context (input + output) is the reusable prefix of the next.
 *  - open-loop requests (Mooncake traces): one turn per session with an
 *    absolute issue time, and explicit hash_ids naming its prefix blocks.
 */
#ifndef DP_WORKLOAD_H
#define DP_WORKLOAD_H

#include <stdint.h>
#include <stddef.h>

struct dp_turn {
    uint32_t append_tokens;  /* new input tokens this turn adds to the context */
    uint32_t output_tokens;  /* tokens generated */
    uint64_t think_ns;       /* closed loop: delay after the previous turn ends */
    /* Open loop (Mooncake): input_tokens is the whole prompt, hash_ids its
     * prefix blocks (block_tokens each); NULL/0 for agent sessions. */
    uint32_t input_tokens;
    uint32_t n_hash;
    uint64_t *hash_ids;      /* owned by the workload's arena */
};

struct dp_session {
    uint64_t id;
    uint64_t start_ns;       /* issue time of turn 0 */
    uint32_t n_turns;
    int open_loop;           /* 1: every turn carries input_tokens + hash_ids */
    struct dp_turn *turns;   /* owned by the workload */
};

struct dp_workload {
    struct dp_session *sessions;
    size_t n_sessions, cap_sessions;
    uint32_t block_tokens;   /* tokens per KV block (hash_ids granularity) */
    char source[256];        /* file name or "synthetic" */
    /* arena for turns and hash ids: freed with the workload */
    void *arena;
};

void dp_workload_init(struct dp_workload *w, uint32_t block_tokens);
void dp_workload_free(struct dp_workload *w);
/* Append a session; turns (and their hash_ids) are copied into the arena.
 * Returns NULL on allocation failure. */
struct dp_session *dp_workload_add(struct dp_workload *w, uint64_t start_ns,
                                   int open_loop, const struct dp_turn *turns,
                                   uint32_t n_turns);
size_t dp_workload_total_turns(const struct dp_workload *w);

#endif
