/* Shared by the fuzz targets of the DAG-session readers (fuzz_bailian.c,
 * fuzz_agentic.c): what every accepted trace must satisfy, and the ways it
 * must go through replay and conversion without a crash or a broken
 * invariant. */
#ifndef DP_FUZZ_DAG_H
#define DP_FUZZ_DAG_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "traces/trace.h"

/* Sessions sorted by start; turns in a topological order (every
 * dependency earlier); every turn with its prompt and hash ids in range. */
static void fz_check_dag(const struct dp_workload *w)
{
    if (w->n_sessions == 0 || !w->hash_tokens)
        abort();
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (!s->links || s->open_loop || s->n_turns == 0 ||
            (i && s->start_ns < w->sessions[i - 1].start_ns) || s->links[0].n_deps != 0)
            abort();
        for (uint32_t k = 0; k < s->n_turns; k++) {
            const struct dp_turn *t = &s->turns[k];
            if (t->input_tokens == 0 || t->append_tokens == 0 ||
                t->n_hash > (t->input_tokens + w->hash_tokens - 1) / w->hash_tokens)
                abort();
            for (uint32_t j = 0; j < s->links[k].n_deps; j++)
                if (s->links[k].deps[j] >= k)
                    abort();
        }
    }
}

/* Statistics; closed-loop replay at 64-token blocks; open-loop replay;
 * conversion to both formats, read back. Consumes w. */
static void fz_exercise_dag(struct dp_workload *w)
{
    struct dp_err err = { "" };
    struct dp_trace_stats st;
    struct dp_workload back;
    char out[128];
    fz_check_dag(w);
    if (dp_trace_stats(w, &st))
        abort();
    int rc = dp_workload_rebloc(w, 64, &err);
    fz_check_msg(err.msg, sizeof err.msg);
    if (rc == 0) {
        fz_replay(w);
        if (dp_workload_open_loop(w, &err)) {
            fprintf(stderr, "fuzz: open loop: %s\n", err.msg);
            abort();
        }
        fz_replay(w);
        snprintf(out, sizeof out, "%s", fz_path("round.jsonl"));
        if (dp_workload_rebloc(w, 512, &err) || dp_mooncake_write(out, w, &err) ||
            dp_mooncake_load(out, &back, &err) || back.n_sessions != w->n_sessions) {
            fprintf(stderr, "fuzz: to Mooncake and back: %s\n", err.msg);
            abort();
        }
        dp_workload_free(&back);
        unlink(out);
    }
    dp_workload_free(w);
}

/* Conversion to agent sessions and back keeps the sessions and turns. */
static void fz_chains(struct dp_workload *w)
{
    struct dp_err err = { "" };
    struct dp_workload back;
    uint64_t reshaped;
    char out[128];
    size_t n = w->n_sessions, turns = dp_workload_total_turns(w);
    snprintf(out, sizeof out, "%s", fz_path("round.jsonl"));
    if (dp_workload_chains(w, &reshaped, &err) || dp_sessions_write(out, w, &err) ||
        dp_sessions_load(out, &back, &err) || back.n_sessions != n ||
        dp_workload_total_turns(&back) != turns) {
        fprintf(stderr, "fuzz: to sessions and back: %s\n", err.msg);
        abort();
    }
    dp_workload_free(&back);
    dp_workload_free(w);
    unlink(out);
}

/* Loads the input with load(path, hash_tokens), exercises it; the same
 * through format detection. */
static int fz_dag_one(const uint8_t *data, size_t size,
                      int (*load)(const char *, uint32_t, struct dp_workload *, struct dp_err *))
{
    char path[128];
    snprintf(path, sizeof path, "%s", fz_write("input.jsonl", data, size));
    struct dp_workload w;
    struct dp_err err = { "" };
    int rc = load(path, 0, &w, &err);
    fz_check_msg(err.msg, sizeof err.msg);
    if (rc == 0) {
        fz_exercise_dag(&w);
        if (load(path, 0, &w, &err))
            abort();   /* the same input twice: the same answer */
        fz_chains(&w);
    }
    rc = dp_trace_load(path, DP_TRACE_AUTO, &w, &err);
    fz_check_msg(err.msg, sizeof err.msg);
    if (rc == 0) {
        struct dp_trace_stats st;
        dp_trace_stats(&w, &st);
        dp_workload_free(&w);
    }
    return 0;
}

#endif
