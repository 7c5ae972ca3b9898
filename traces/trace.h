/* Trace readers and writers, the synthetic agent generator, trace statistics.
 *
 * Formats (traces/README.md documents both):
 *  - Mooncake JSONL: one request a line with "timestamp" (ms), "input_length",
 *    "output_length", "hash_ids" (prefix block ids, 512 tokens each). Each
 *    request becomes an open-loop one-turn session.
 *  - DualPath agent sessions JSONL: one session a line,
 *    {"session": ID, "start_ms": T, "turns": [{"append": N, "output": M,
 *     "think_ms": X}, ...]}, closed loop.
 *
 * Every reader reports the first bad line as "FILE:LINE: field 'F': what"
 * in err and leaves w empty on failure. */
#ifndef DP_TRACE_H
#define DP_TRACE_H

#include <stdint.h>
#include <gsl/gsl_rng.h>

#include "base/errors.h"
#include "traces/workload.h"

enum dp_trace_format { DP_TRACE_AUTO = 0, DP_TRACE_MOONCAKE, DP_TRACE_SESSIONS };

/* Load any supported trace; DP_TRACE_AUTO looks at the first record.
 * The loaders initialize w themselves (block_tokens 512, the Mooncake block;
 * callers may change it afterwards) and sort sessions by start time (stable).
 * On failure w is left empty and safe to free. */
int dp_trace_load(const char *path, enum dp_trace_format fmt,
                  struct dp_workload *w, struct dp_err *err);
int dp_mooncake_load(const char *path, struct dp_workload *w, struct dp_err *err);
int dp_sessions_load(const char *path, struct dp_workload *w, struct dp_err *err);
/* Write agent sessions (closed-loop sessions only) in the sessions format,
 * to path.tmp then renamed. */
int dp_sessions_write(const char *path, const struct dp_workload *w, struct dp_err *err);

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
    double input_mean, input_p50, input_p99;     /* tokens of context per request */
    double output_mean;
    double append_mean;                           /* new tokens per request */
    double reuse_fraction;   /* share of input tokens an unbounded prefix cache serves */
    double span_s;           /* first issue to last issue (open loop) */
};
/* Statistics of a workload. Closed-loop sessions: input = accumulated
 * context; open loop: input_tokens with hash-id prefix reuse. */
int dp_trace_stats(const struct dp_workload *w, struct dp_trace_stats *s);

#endif
