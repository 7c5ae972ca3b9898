/* libFuzzer target: the Mooncake JSONL reader (traces/mooncake.c).
 *
 * Each input is one trace file. Beyond "no crash, no leak, no UB" it checks
 * two properties the reader promises:
 *  - differential: the fast line parser accepts nothing the reference path
 *    (json_loadb + add_record) rejects or reads differently, so loading with
 *    the fast path on and off gives the same result code, the same message
 *    and the same workload, field by field;
 *  - auto-detection: dp_trace_load(DP_TRACE_AUTO) on a file the Mooncake
 *    reader accepts gives the same workload or a clean error;
 *  - an accepted trace replays (its first 4 requests, open loop) on a 1 PE
 *    + 1 DE cluster with the invariant checker on (fz_replay).
 * Built by tests/fuzz/CMakeLists.txt (clang, -DDP_FUZZ=ON); replayed on the
 * kept regressions by tests/unit/test_fuzz_regressions.c (any compiler). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "traces/trace.h"
#include "traces/trace_internal.h"

/* 1 when two workloads hold the same sessions, turns and hash ids. */
static int fz_same_workload(const struct dp_workload *a, const struct dp_workload *b)
{
    if (a->n_sessions != b->n_sessions || a->block_tokens != b->block_tokens)
        return 0;
    for (size_t i = 0; i < a->n_sessions; i++) {
        const struct dp_session *x = &a->sessions[i], *y = &b->sessions[i];
        if (x->id != y->id || x->start_ns != y->start_ns || x->n_turns != y->n_turns ||
            x->open_loop != y->open_loop)
            return 0;
        for (uint32_t k = 0; k < x->n_turns; k++) {
            const struct dp_turn *s = &x->turns[k], *t = &y->turns[k];
            if (s->append_tokens != t->append_tokens || s->output_tokens != t->output_tokens ||
                s->think_ns != t->think_ns || s->input_tokens != t->input_tokens ||
                s->n_hash != t->n_hash)
                return 0;
            if (s->n_hash && memcmp(s->hash_ids, t->hash_ids, s->n_hash * sizeof *s->hash_ids))
                return 0;
        }
    }
    return 1;
}

/* Sanity of an accepted open-loop workload: what core relies on. */
static void fz_check_mooncake(const struct dp_workload *w)
{
    if (w->n_sessions == 0 || w->block_tokens == 0)
        abort();
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (s->n_turns != 1 || !s->open_loop || (i && s->start_ns < w->sessions[i - 1].start_ns))
            abort();
        const struct dp_turn *t = &s->turns[0];
        if (t->input_tokens < 1 || (t->n_hash && !t->hash_ids) ||
            (uint64_t)t->n_hash * w->block_tokens >= (uint64_t)t->input_tokens + w->block_tokens)
            abort();
    }
}

static int fuzz_mooncake_one(const uint8_t *data, size_t size)
{
    const char *path = fz_write("input.jsonl", data, size);
    struct dp_workload fast, ref, any;
    struct dp_err ef = { "" }, er = { "" }, ea = { "" };

    dp_tr_mooncake_set_fast(1);
    int rf = dp_mooncake_load(path, &fast, &ef);
    dp_tr_mooncake_set_fast(0);
    int rr = dp_mooncake_load(path, &ref, &er);
    dp_tr_mooncake_set_fast(1);
    fz_check_msg(ef.msg, sizeof ef.msg);
    fz_check_msg(er.msg, sizeof er.msg);

    if (rf != rr || (rf && strcmp(ef.msg, er.msg))) {
        fprintf(stderr, "fuzz_mooncake: fast path rc %d '%s', reference rc %d '%s'\n", rf,
                ef.msg, rr, er.msg);
        abort();
    }
    if (rf == 0) {
        if (!fz_same_workload(&fast, &ref)) {
            fprintf(stderr, "fuzz_mooncake: fast path and reference read different workloads\n");
            abort();
        }
        fz_check_mooncake(&fast);
        struct dp_trace_stats st;
        dp_trace_stats(&fast, &st);
        fz_replay(&fast);
        dp_workload_free(&fast);
        dp_workload_free(&ref);
    }

    int ra = dp_trace_load(path, DP_TRACE_AUTO, &any, &ea);
    fz_check_msg(ea.msg, sizeof ea.msg);
    if (ra == 0) {
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
    return fuzz_mooncake_one(data, size);
}
#endif
