/* libFuzzer target: the DualPath agent-session JSONL reader and writer
 * (traces/session_fmt.c), and trace format detection (dp_trace_load).
 *
 * Beyond "no crash, no leak, no UB": an accepted file is closed-loop and
 * sorted, and writing it back (dp_sessions_write) then reading that again
 * gives the same sessions (times to within the rounding of a decimal ms
 * read as a double: 1 ns + 1e-15 relative); and its first 4 sessions
 * replay closed loop on a 1 PE + 1 DE cluster with the invariant checker
 * on (fz_replay). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "traces/trace.h"

static int fz_close_ns(uint64_t a, uint64_t b)
{
    double d = a > b ? (double)(a - b) : (double)(b - a);
    return d <= 1.0 + 1e-15 * (double)(a > b ? a : b);
}

static void fz_check_sessions(const struct dp_workload *w)
{
    if (w->n_sessions == 0)
        abort();
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (s->open_loop || s->n_turns == 0 || !s->turns ||
            (i && s->start_ns < w->sessions[i - 1].start_ns) || s->turns[0].think_ns != 0)
            abort();
        for (uint32_t k = 0; k < s->n_turns; k++)
            if (s->turns[k].append_tokens == 0 || s->turns[k].hash_ids)
                abort();
    }
}

static int fuzz_sessions_one(const uint8_t *data, size_t size)
{
    const char *p = fz_write("input.jsonl", data, size);
    char path[128];
    snprintf(path, sizeof path, "%s", p);
    struct dp_workload w, back, any;
    struct dp_err err = { "" };

    int rc = dp_sessions_load(path, &w, &err);
    fz_check_msg(err.msg, sizeof err.msg);
    if (rc == 0) {
        fz_check_sessions(&w);
        struct dp_trace_stats st;
        dp_trace_stats(&w, &st);
        fz_replay(&w);
        char round[128];
        snprintf(round, sizeof round, "%s", fz_path("round.jsonl"));
        if (dp_sessions_write(round, &w, &err)) {
            fprintf(stderr, "fuzz_sessions: an accepted trace cannot be written: %s\n", err.msg);
            abort();
        }
        if (dp_sessions_load(round, &back, &err)) {
            fprintf(stderr, "fuzz_sessions: the written trace is rejected: %s\n", err.msg);
            abort();
        }
        int same = back.n_sessions == w.n_sessions;
        for (size_t i = 0; same && i < w.n_sessions; i++) {
            const struct dp_session *a = &w.sessions[i], *b = &back.sessions[i];
            same = a->id == b->id && a->n_turns == b->n_turns && fz_close_ns(a->start_ns, b->start_ns);
            for (uint32_t k = 0; same && k < a->n_turns; k++)
                same = a->turns[k].append_tokens == b->turns[k].append_tokens &&
                       a->turns[k].output_tokens == b->turns[k].output_tokens &&
                       fz_close_ns(a->turns[k].think_ns, b->turns[k].think_ns);
        }
        if (!same) {
            fprintf(stderr, "fuzz_sessions: write + read back changed the sessions\n");
            abort();
        }
        dp_workload_free(&back);
        dp_workload_free(&w);
        unlink(round);
    }

    rc = dp_trace_load(path, DP_TRACE_AUTO, &any, &err);
    fz_check_msg(err.msg, sizeof err.msg);
    if (rc == 0) {
        struct dp_trace_stats st;
        dp_trace_stats(&any, &st);
        dp_workload_free(&any);
    }
    return 0;
}

#ifndef DP_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_sessions_one(data, size);
}
#endif
