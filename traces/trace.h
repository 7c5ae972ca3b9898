/* Trace readers and writers, the synthetic agent generator, trace statistics.
 *
 * Formats (traces/README.md documents both):
 *  - Mooncake JSONL: one request a line with "timestamp" (ms), "input_length",
 *    "output_length", "hash_ids" (prefix block ids, 512 tokens each). Each
 *    request becomes an open-loop one-turn session.
 *  - DualPath agent sessions JSONL: one session a line,
 *    {"session": ID, "start_ms": T, "turns": [{"append": N, "output": M,
 *     "think_ms": X}, ...]}, closed loop.
 *  - Qwen-Bailian usage traces: one request a line with chat_id,
 *    parent_chat_id, timestamp (s), 16-token hash_ids: conversation trees.
 *  - Dynamo agentic Mooncake rows: request_id, wait_for, branches, delay,
 *    tool_wait_ms, prefix_reset: request DAGs.
 * The last two become DAG sessions (workload.h).
 *
 * Every reader reports the first bad line as "FILE:LINE: field 'F': what"
 * in err and leaves w empty on failure. */
#ifndef DP_TRACE_H
#define DP_TRACE_H

#include <stdint.h>
#include <gsl/gsl_rng.h>

#include "base/errors.h"
#include "traces/workload.h"

enum dp_trace_format {
    DP_TRACE_AUTO = 0, DP_TRACE_MOONCAKE, DP_TRACE_SESSIONS, DP_TRACE_BAILIAN, DP_TRACE_AGENTIC
};
/* "auto", "mooncake", "sessions", "bailian", "agentic" by enum value;
 * NULL-terminated. */
extern const char *const dp_trace_format_names[];

/* How to read a trace. */
struct dp_trace_opts {
    enum dp_trace_format format;   /* DP_TRACE_AUTO: by the first record's fields */
    uint32_t hash_tokens;          /* tokens per hash id; 0: the format's own (Mooncake
                                    * 512, Bailian 16) or, for Dynamo rows, inferred */
};

/* Load any supported trace; DP_TRACE_AUTO looks at the first record.
 * The loaders initialize w themselves (block_tokens = hash_tokens, the block
 * size of the trace's hash ids, 512 for agent sessions; dp_workload_rebloc
 * converts) and sort sessions by start time (stable).
 * On failure w is left empty and safe to free. */
int dp_trace_load(const char *path, enum dp_trace_format fmt,
                  struct dp_workload *w, struct dp_err *err);
int dp_trace_load_opts(const char *path, const struct dp_trace_opts *o, struct dp_workload *w,
                       struct dp_err *err);
int dp_mooncake_load(const char *path, struct dp_workload *w, struct dp_err *err);
/* Qwen-Bailian usage traces (traces/bailian.c): conversation trees of
 * chat_id/parent_chat_id, timestamps in seconds, 16-token hash blocks. */
int dp_bailian_load(const char *path, uint32_t hash_tokens, struct dp_workload *w,
                    struct dp_err *err);
/* Dynamo agentic Mooncake rows (traces/agentic.c): request DAGs of wait_for,
 * branches, delay + tool_wait_ms, prefix_reset. */
int dp_agentic_load(const char *path, uint32_t hash_tokens, struct dp_workload *w,
                    struct dp_err *err);
int dp_sessions_load(const char *path, struct dp_workload *w, struct dp_err *err);
/* Write one-turn open-loop requests with 512-token hash ids (after
 * dp_workload_open_loop and dp_workload_rebloc(w, 512)) as Mooncake JSONL,
 * to path.tmp then renamed. */
int dp_mooncake_write(const char *path, const struct dp_workload *w, struct dp_err *err);
/* Write agent sessions (closed-loop sessions only) in the sessions format,
 * to path.tmp then renamed. */
int dp_sessions_write(const char *path, const struct dp_workload *w, struct dp_err *err);

/* ---- Replay (traces/replay.c) ---- */
/* Converts hash ids from w->hash_tokens-token blocks to block_tokens-token
 * blocks, keeping prefix sharing as far as the coarser size allows (see
 * replay.c); sets w->block_tokens. A workload without hash ids only takes
 * the new block size. DP_EINVAL when neither size divides the other. */
int dp_workload_rebloc(struct dp_workload *w, uint32_t block_tokens, struct dp_err *err);
/* Every closed-loop turn becomes a one-turn open-loop request at its
 * recorded time (DAG sessions) or at its session's start plus the think
 * times before it (agent sessions, whose context becomes hash ids of
 * w->block_tokens tokens). The requests are numbered 0.. in time order (as
 * a Mooncake file's are). Open-loop workloads are left as they are. */
int dp_workload_open_loop(struct dp_workload *w, struct dp_err *err);
/* Multiplies every arrival time (session starts, DAG roots' times) by
 * scale; think and tool times after a dependency are kept. */
void dp_workload_scale_time(struct dp_workload *w, double scale);
/* The scale that makes sessions arrive at `rate` a second on average over
 * the trace's span (1 when it cannot: one session, or all at once). */
double dp_workload_rate_scale(const struct dp_workload *w, double rate);

/* Every session as an agent session (the sessions format): turns in their
 * order with their new tokens (append) and think times. Open-loop requests
 * become one-turn sessions. *reshaped counts DAG sessions that were more
 * than a chain (branches, joins, context resets): they become the chain of
 * their turns in topological order. Prefix sharing between sessions (hash
 * ids) is not kept: the sessions format has none. */
int dp_workload_chains(struct dp_workload *w, uint64_t *reshaped, struct dp_err *err);

/* Synthetic agents. Defaults follow the paper's characterization of
 * production coding agents (traces/README.md gives the reasoning). Every
 * field is settable from the scenario's workload.synthetic section. */
struct dp_synth_params {
    uint32_t agents;             /* offline: sessions started at t=0 */
    double rate;                 /* online: agents per second (Poisson); 0 = offline */
    double duration_s;           /* online: arrivals over [0, duration_s) */
    double turns_mean;           /* turns per session (geometric-like, >= 1) */
    uint32_t turns_max;
    double prompt_tokens_mean;   /* initial context: lognormal mean */
    double prompt_tokens_cv;     /* coefficient of variation */
    double append_tokens_mean;   /* tokens appended per later turn: lognormal */
    double append_tokens_cv;
    double output_tokens_mean;   /* generated per turn: lognormal */
    double output_tokens_cv;
    double think_s_mean;         /* tool/think time between turns: lognormal */
    double think_s_cv;
    uint32_t max_context;        /* a session stops before exceeding this */
    double start_spread_s;       /* offline: agents start uniformly in [0, spread) */
    double turns_cv;             /* coefficient of variation of turns per session
                                  * (1 ~ geometric); added by traces/ */
};
void dp_synth_defaults(struct dp_synth_params *p);
/* w must be initialized (dp_workload_init): its block_tokens is kept (0 gives
 * 512), any sessions it held are freed. On failure w is left empty. */
int dp_synth_generate(const struct dp_synth_params *p, gsl_rng *rng,
                      struct dp_workload *w, struct dp_err *err);

struct dp_trace_stats {
    uint64_t sessions, requests;
    double turns_mean;
    double turns_p50, turns_p99, turns_max;       /* requests per session */
    double input_mean, input_p50, input_p99;     /* tokens of context per request */
    double output_mean;
    double append_mean;                           /* new tokens per request */
    double reuse_fraction;   /* share of input tokens an unbounded prefix cache serves */
    double span_s;           /* first recorded issue to last (session starts; every
                              * turn of a DAG session) */
    /* Gaps before a turn that waits for another (think + tool), seconds. */
    uint64_t gaps;
    double think_mean_s, think_p50_s, think_p99_s;   /* the whole gap */
    double tool_share;       /* of all gap time, the share in tools (Dynamo tool_wait_ms) */
    double growth_mean;      /* context tokens a follow-up turn adds over its predecessor's input */
    uint64_t dag_sessions;   /* sessions with branches or joins (more than a chain) */
    uint32_t hash_tokens, block_tokens;
};
/* Statistics of a workload. Agent sessions: input = accumulated context;
 * requests with hash ids (open loop, DAG sessions): their input_length,
 * with hash-id prefix reuse in issue-time order. */
int dp_trace_stats(const struct dp_workload *w, struct dp_trace_stats *s);
/* The series `trace stats --plot` draws, as a TSV (path.tmp renamed):
 * "turns K SESSIONS", "context K N MEAN_INPUT", "gap SECONDS TOOL_SECONDS"
 * (up to 20,000, evenly sampled), "arrivals SECOND REQUESTS". */
int dp_trace_profile_write(const char *path, const struct dp_workload *w, struct dp_err *err);

#endif
