/* The workload: sessions of turns, as every trace reader and the synthetic
 * generator produce it and as core/ consumes it. Plain data, no functions
 * beyond construction helpers in workload.c, so core/ may include it.
 *
 * Three kinds of session share this shape:
 *  - agent sessions (closed loop): turn k+1 is issued when turn k's last
 *    token is out, plus the turn's think_ns (tool or user time); the KV of a
 *    turn's whole context (input + output) is the reusable prefix of the next.
 *  - open-loop requests (Mooncake traces): one turn per session with an
 *    absolute issue time, and explicit hash_ids naming its prefix blocks.
 *  - DAG sessions (Qwen-Bailian conversation trees, Dynamo agentic rows):
 *    closed loop over a graph of turns: links[k] names the earlier turns
 *    turn k waits for (think_ns after the last of them ends), or marks it a
 *    root issued at start_ns + links[k].at_ns. Every turn carries its whole
 *    prompt (input_tokens) and hash_ids.
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

/* Where a turn of a DAG session sits in its graph. */
enum { DP_TURN_RESET = 1 };   /* its context starts afresh (Dynamo prefix_reset,
                               * a conversation root): no earlier turn's prefix */
struct dp_turn_link {
    uint64_t at_ns;          /* recorded issue time from the session's start
                              * (open-loop replay; roots in closed loop) */
    uint32_t n_deps;         /* 0: a root */
    uint32_t flags;          /* DP_TURN_* */
    uint64_t tool_ns;        /* of the turn's think_ns, time in tools (Dynamo) */
    uint32_t *deps;          /* indices (< this turn's) of the turns it waits for;
                              * deps[0] is the turn whose context it extends */
};

struct dp_session {
    uint64_t id;
    uint64_t start_ns;       /* issue time of turn 0 */
    uint32_t n_turns;
    int open_loop;           /* 1: every turn carries input_tokens + hash_ids */
    struct dp_turn *turns;   /* owned by the workload */
    struct dp_turn_link *links;   /* DAG sessions only (else NULL); in the arena */
};

struct dp_workload {
    struct dp_session *sessions;
    size_t n_sessions, cap_sessions;
    uint32_t block_tokens;   /* tokens per KV block (hash_ids granularity) */
    uint32_t hash_tokens;    /* tokens per hash id as the trace recorded them
                              * (0: the trace has none); equal ids name equal
                              * prefixes (chained), whatever the source did */
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
/* The same for a DAG session: links[k].deps are copied too. */
struct dp_session *dp_workload_add_dag(struct dp_workload *w, uint64_t start_ns,
                                       const struct dp_turn *turns,
                                       const struct dp_turn_link *links, uint32_t n_turns);
size_t dp_workload_total_turns(const struct dp_workload *w);

#endif
