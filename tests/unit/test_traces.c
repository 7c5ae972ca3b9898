/* traces/: workload arena, Mooncake and sessions readers, the writer, the
 * synthetic generator and the statistics. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "traces/trace.h"
#include "traces/trace_internal.h"

#ifndef DP_TEST_DATA
#error "DP_TEST_DATA must name tests/data"
#endif

#define DATA(f) DP_TEST_DATA "/" f
#define BAD(f) DP_TEST_DATA "/bad/" f

/* For loops over many turns: ck_assert_* logs every passing check (through
 * a file), which makes million-turn loops slow; this one costs nothing until
 * it fails. */
#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond))                                                                       \
            ck_abort_msg("%s:%d: failed: %s", __FILE__, __LINE__, #cond);                  \
    } while (0)

static int close_to(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fabs(b);
}

static void assert_empty(const struct dp_workload *w)
{
    ck_assert_uint_eq(w->n_sessions, 0);
    ck_assert_ptr_null(w->sessions);
    ck_assert_ptr_null(w->arena);
}

static void assert_same_workload(const struct dp_workload *a, const struct dp_workload *b)
{
    REQUIRE(a->n_sessions == b->n_sessions);
    for (size_t i = 0; i < a->n_sessions; i++) {
        const struct dp_session *x = &a->sessions[i], *y = &b->sessions[i];
        REQUIRE(x->id == y->id);
        REQUIRE(x->start_ns == y->start_ns);
        REQUIRE(x->open_loop == y->open_loop);
        REQUIRE(x->n_turns == y->n_turns);
        for (uint32_t k = 0; k < x->n_turns; k++) {
            const struct dp_turn *s = &x->turns[k], *t = &y->turns[k];
            REQUIRE(s->append_tokens == t->append_tokens);
            REQUIRE(s->output_tokens == t->output_tokens);
            REQUIRE(s->think_ns == t->think_ns);
            REQUIRE(s->input_tokens == t->input_tokens);
            REQUIRE(s->n_hash == t->n_hash);
            for (uint32_t j = 0; j < s->n_hash; j++)
                REQUIRE(s->hash_ids[j] == t->hash_ids[j]);
        }
    }
}

/* ------------------------------------------------------------ workload */

START_TEST(test_workload_arena)
{
    struct dp_workload w;
    dp_workload_init(&w, 512);
    uint64_t ids[40];
    struct dp_turn turns[40];
    /* Many sessions: the first session's turns and ids must survive every
     * later growth of the arena and of the session array. */
    const struct dp_turn *first_turns = NULL;
    const uint64_t *first_ids = NULL;
    size_t want_turns = 0;
    for (uint32_t i = 0; i < 100000; i++) {
        uint32_t n = 1 + i % 40;
        for (uint32_t k = 0; k < n; k++) {
            ids[k] = (uint64_t)i * 1000 + k;
            turns[k] = (struct dp_turn){.append_tokens = i + k, .output_tokens = k,
                                        .think_ns = i, .input_tokens = 7,
                                        .n_hash = k % 3, .hash_ids = ids};
        }
        struct dp_session *s = dp_workload_add(&w, i, (int)(i & 1), turns, n);
        REQUIRE(s != NULL);
        REQUIRE(s->id == i);
        want_turns += n;
        if (i == 0) {
            first_turns = s->turns;
        } else if (i == 2) {
            first_ids = s->turns[2].hash_ids;   /* turn 2 of session 2: 2 ids */
        }
    }
    ck_assert_uint_eq(w.n_sessions, 100000);
    ck_assert_uint_eq(dp_workload_total_turns(&w), want_turns);
    ck_assert_ptr_eq(w.sessions[0].turns, first_turns);
    ck_assert_uint_eq(first_turns[0].append_tokens, 0);
    ck_assert_ptr_null(first_turns[0].hash_ids);   /* n_hash 0: no ids */
    ck_assert_ptr_eq(w.sessions[2].turns[2].hash_ids, first_ids);
    ck_assert_uint_eq(first_ids[0], 2000);
    ck_assert_uint_eq(first_ids[1], 2001);
    const struct dp_session *last = &w.sessions[99999];
    ck_assert_uint_eq(last->n_turns, 40);
    ck_assert_uint_eq(last->turns[39].append_tokens, 99999 + 39);
    ck_assert_uint_eq(last->turns[38].n_hash, 2);
    ck_assert_uint_eq(last->turns[38].hash_ids[1], 99999ull * 1000 + 1);
    ck_assert_int_eq(last->open_loop, 1);
    dp_workload_free(&w);
    assert_empty(&w);
    dp_workload_free(&w);   /* twice is harmless */
    ck_assert_uint_eq(w.block_tokens, 512);
}
END_TEST

START_TEST(test_workload_big_session)
{
    /* One session larger than an arena chunk, between small ones. */
    struct dp_workload w;
    dp_workload_init(&w, 512);
    size_t n = 200000;
    struct dp_turn *t = calloc(n, sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < n; i++)
        t[i].append_tokens = (uint32_t)i + 1;
    ck_assert_ptr_nonnull(dp_workload_add(&w, 0, 0, t, 3));
    ck_assert_ptr_nonnull(dp_workload_add(&w, 0, 0, t, (uint32_t)n));
    ck_assert_ptr_nonnull(dp_workload_add(&w, 0, 0, t, 5));
    free(t);
    ck_assert_uint_eq(dp_workload_total_turns(&w), n + 8);
    ck_assert_uint_eq(w.sessions[1].turns[n - 1].append_tokens, n);
    ck_assert_uint_eq(w.sessions[0].turns[2].append_tokens, 3);
    ck_assert_uint_eq(w.sessions[2].turns[4].append_tokens, 5);
    dp_workload_free(&w);
}
END_TEST

/* ------------------------------------------------------------ Mooncake */

START_TEST(test_mooncake_head)
{
    struct dp_workload w;
    struct dp_err e = {{0}};
    ck_assert_int_eq(dp_mooncake_load(DATA("mooncake_head.jsonl"), &w, &e), 0);
    ck_assert_uint_eq(w.n_sessions, 200);
    ck_assert_uint_eq(w.block_tokens, 512);
    ck_assert_str_eq(w.source, DATA("mooncake_head.jsonl"));
    const struct dp_session *s = &w.sessions[0];
    ck_assert_uint_eq(s->id, 0);
    ck_assert_int_eq(s->open_loop, 1);
    ck_assert_uint_eq(s->start_ns, 0);
    ck_assert_uint_eq(s->n_turns, 1);
    ck_assert_uint_eq(s->turns[0].input_tokens, 40160);
    ck_assert_uint_eq(s->turns[0].output_tokens, 6);
    ck_assert_uint_eq(s->turns[0].n_hash, 79);
    ck_assert_uint_eq(s->turns[0].hash_ids[0], 0);
    ck_assert_uint_eq(s->turns[0].hash_ids[78], 78);
    s = &w.sessions[199];
    ck_assert_uint_eq(s->id, 199);
    ck_assert_uint_eq(s->start_ns, 58501ull * 1000000);
    ck_assert_uint_eq(s->turns[0].input_tokens, 37625);
    ck_assert_uint_eq(s->turns[0].output_tokens, 2);
    ck_assert_uint_eq(s->turns[0].n_hash, 74);
    ck_assert_uint_eq(s->turns[0].hash_ids[0], 4933);
    ck_assert_uint_eq(s->turns[0].hash_ids[73], 5006);

    /* Statistics computed independently (Python) on the same 200 lines. */
    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert_uint_eq(st.requests, 200);
    ck_assert_uint_eq(st.sessions, 200);
    ck_assert(close_to(st.input_mean, 2663480.0 / 200, 1e-12));
    ck_assert(close_to(st.input_p50, 11998.5, 1e-12));
    ck_assert(close_to(st.input_p99, 54664.5, 1e-9));
    ck_assert(close_to(st.output_mean, 38364.0 / 200, 1e-12));
    ck_assert(close_to(st.reuse_fraction, 164803.0 / 2663480, 1e-12));
    ck_assert(close_to(st.span_s, 58.501, 1e-12));

    /* AUTO detects the format and gives the same workload. */
    struct dp_workload w2;
    ck_assert_int_eq(dp_trace_load(DATA("mooncake_head.jsonl"), DP_TRACE_AUTO, &w2, &e), 0);
    assert_same_workload(&w, &w2);
    dp_workload_free(&w2);
    dp_workload_free(&w);
}
END_TEST

/* Blank and whitespace lines, CRLF, a real timestamp, unknown fields, keys in
 * any order, an empty hash_ids, out-of-order times, no final newline. */
START_TEST(test_mooncake_mixed)
{
    struct dp_workload w;
    struct dp_err e = {{0}};
    ck_assert_msg(dp_mooncake_load(DATA("mooncake_mixed.jsonl"), &w, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(w.n_sessions, 4);
    /* Sorted by start, equal starts in file order; ids are record indexes. */
    static const uint64_t want_id[] = {2, 3, 1, 0};
    static const uint64_t want_ns[] = {10000000, 10000000, 10500000, 30000000};
    static const uint32_t want_in[] = {513, 100, 600, 1024};
    static const uint32_t want_nh[] = {2, 0, 1, 2};
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(w.sessions[i].id, want_id[i]);
        ck_assert_uint_eq(w.sessions[i].start_ns, want_ns[i]);
        ck_assert_uint_eq(w.sessions[i].turns[0].input_tokens, want_in[i]);
        ck_assert_uint_eq(w.sessions[i].turns[0].n_hash, want_nh[i]);
    }
    ck_assert_ptr_null(w.sessions[1].turns[0].hash_ids);
    ck_assert_uint_eq(w.sessions[2].turns[0].output_tokens, 0);

    /* Reuse by hand: 513 [0,1] -> 0; 100 [] -> 0; 600 [0] -> 512;
     * 1024 [0,1] -> 1024. */
    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert(close_to(st.reuse_fraction, 1536.0 / 2237.0, 1e-12));
    ck_assert(close_to(st.input_mean, 2237.0 / 4, 1e-12));
    ck_assert(close_to(st.output_mean, 13.0 / 4, 1e-12));
    /* new tokens = input - reused: 513 + 100 + 88 + 0 */
    ck_assert(close_to(st.append_mean, 701.0 / 4, 1e-12));
    ck_assert(close_to(st.span_s, 0.020, 1e-12));
    dp_workload_free(&w);
}
END_TEST

/* The fast line parser must give exactly what the json_loadb path gives. */
START_TEST(test_mooncake_fast_path_matches_jansson)
{
    static const char *const files[] = {DATA("mooncake_head.jsonl"),
                                        DATA("mooncake_mixed.jsonl")};
    for (int i = 0; i < 2; i++) {
        struct dp_workload a, b;
        struct dp_err e = {{0}};
        dp_tr_mooncake_set_fast(1);
        ck_assert_int_eq(dp_mooncake_load(files[i], &a, &e), 0);
        dp_tr_mooncake_set_fast(0);
        ck_assert_int_eq(dp_mooncake_load(files[i], &b, &e), 0);
        dp_tr_mooncake_set_fast(1);
        assert_same_workload(&a, &b);
        dp_workload_free(&a);
        dp_workload_free(&b);
    }
}
END_TEST

/* The whole shared trace, when DP_SHARED_TRACES names it or its folder. */
START_TEST(test_mooncake_shared_full)
{
    const char *env = getenv("DP_SHARED_TRACES");
    char path[1024];
    struct stat sb;
    if (!env || !*env || stat(env, &sb) != 0) {
        fprintf(stderr, "test_mooncake_shared_full: skipped (DP_SHARED_TRACES unset or "
                        "missing)\n");
        return;
    }
    if (S_ISDIR(sb.st_mode))
        snprintf(path, sizeof path, "%s/mooncake_synthetic_trace.jsonl", env);
    else
        snprintf(path, sizeof path, "%s", env);
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "test_mooncake_shared_full: skipped (%s missing)\n", path);
        return;
    }
    struct dp_workload w;
    struct dp_err e = {{0}};
    ck_assert_msg(dp_trace_load(path, DP_TRACE_AUTO, &w, &e) == 0, "%s", e.msg);
    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    /* data/traces/README.md: 3,993 requests over 1,022 s, input mean 15,325,
     * p50 11,587, p99 66,458 (nearest rank; GSL interpolates 66,456.16),
     * output mean 149, reuse ~65%. */
    ck_assert_uint_eq(st.requests, 3993);
    ck_assert_uint_eq(st.sessions, 3993);
    ck_assert(fabs(st.input_mean - 15325) < 1);
    ck_assert(fabs(st.input_p50 - 11587) < 0.5);
    ck_assert(fabs(st.input_p99 - 66458) < 3);
    ck_assert(fabs(st.output_mean - 149) < 0.5);
    ck_assert(fabs(st.reuse_fraction - 0.65) < 0.01);
    ck_assert(fabs(st.span_s - 1022) < 1);
    struct dp_workload ref;
    dp_tr_mooncake_set_fast(0);
    ck_assert_int_eq(dp_mooncake_load(path, &ref, &e), 0);
    dp_tr_mooncake_set_fast(1);
    assert_same_workload(&w, &ref);
    dp_workload_free(&ref);
    dp_workload_free(&w);
}
END_TEST

/* ------------------------------------------------------------ bad input */

struct bad_case {
    const char *file;
    enum dp_trace_format fmt;
    int code;
    const char *want;   /* substring of the message after "FILE" */
};

static const struct bad_case bad_cases[] = {
    {BAD("mooncake_truncated.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":3: truncated record at column"},
    {BAD("mooncake_missing_field.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":2: field 'output_length': missing"},
    {BAD("mooncake_wrong_type.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":3: field 'input_length': must be an integer, got a string"},
    {BAD("mooncake_negative.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":2: field 'output_length': must be >= 0, got -3"},
    {BAD("mooncake_negative_timestamp.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":1: field 'timestamp': must be >= 0"},
    {BAD("mooncake_bad_json.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL, ":3: bad JSON at column"},
    {BAD("mooncake_too_many_hash_ids.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":2: field 'hash_ids': 3 ids for input_length 1000 (at most 2 blocks"},
    {BAD("mooncake_hash_id_type.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":1: field 'hash_ids': element 1 must be an integer, got a string"},
    {BAD("mooncake_hash_id_negative.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":1: field 'hash_ids': element 1 must be >= 0, got -8"},
    {BAD("mooncake_zero_input.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":4: field 'input_length': must be >= 1, got 0"},
    {BAD("mooncake_not_object.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":2: expected one JSON object a line, got an array"},
    {BAD("mooncake_duplicate_key.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL,
     ":1: bad JSON at column"},
    {BAD("empty.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL, ": empty trace"},
    {BAD("blank_lines.jsonl"), DP_TRACE_MOONCAKE, DP_EINVAL, ": empty trace"},
    {BAD("empty.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL, ": empty trace"},
    {BAD("empty.jsonl"), DP_TRACE_AUTO, DP_EINVAL, ": empty trace"},
    {BAD("no_such_file.jsonl"), DP_TRACE_MOONCAKE, DP_ENOENT, ": cannot open: No such file"},
    {BAD("no_such_file.jsonl"), DP_TRACE_SESSIONS, DP_ENOENT, ": cannot open: No such file"},
    {BAD("no_such_file.jsonl"), DP_TRACE_AUTO, DP_ENOENT, ": cannot open: No such file"},
    {BAD("unknown_format.jsonl"), DP_TRACE_AUTO, DP_EINVAL, ":1: unknown trace format"},
    {BAD("mooncake_bad_json.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":1: field 'timestamp': unknown key"},
    {BAD("sessions_unknown_key.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":2: field 'user': unknown key (expected session, start_ms, turns)"},
    {BAD("sessions_unknown_key.jsonl"), DP_TRACE_AUTO, DP_EINVAL, ":2: field 'user'"},
    {BAD("sessions_unknown_turn_key.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":2: field 'turns[1].tokens': unknown key"},
    {BAD("sessions_missing_turns.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":2: field 'turns': missing"},
    {BAD("sessions_zero_append.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":1: field 'turns[2].append': must be >= 1, got 0"},
    {BAD("sessions_empty_turns.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":3: field 'turns': must hold at least one turn"},
    {BAD("sessions_duplicate_id.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":4: field 'session': duplicate id 0 (first on line 1)"},
    {BAD("sessions_missing_think.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":1: field 'turns[1].think_ms': missing"},
    {BAD("sessions_wrong_type.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":1: field 'start_ms': must be a number (ms), got a string"},
    {BAD("sessions_negative_think.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":1: field 'turns[1].think_ms': must be >= 0"},
    {BAD("sessions_negative_id.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":1: field 'session': must be >= 0, got -4"},
    {BAD("sessions_truncated.jsonl"), DP_TRACE_AUTO, DP_EINVAL,
     ":2: truncated record at column"},
    {BAD("sessions_real_append.jsonl"), DP_TRACE_SESSIONS, DP_EINVAL,
     ":2: field 'turns[0].append': must be an integer, got a real number"},
};

START_TEST(test_bad_input)
{
    const struct bad_case *c = &bad_cases[_i];
    for (int fast = 0; fast < 2; fast++) {
        dp_tr_mooncake_set_fast(fast);
        struct dp_workload w;
        struct dp_err e = {{0}};
        int rc = dp_trace_load(c->file, c->fmt, &w, &e);
        ck_assert_msg(rc == c->code, "%s: rc %d, want %d (%s)", c->file, rc, c->code, e.msg);
        assert_empty(&w);
        char want[1024];
        snprintf(want, sizeof want, "%s%s", c->file, c->want);
        ck_assert_msg(strstr(e.msg, want) != NULL, "message \"%s\"\n lacks \"%s\"", e.msg,
                      want);
        dp_workload_free(&w);
    }
    dp_tr_mooncake_set_fast(1);
}
END_TEST

/* A loader overwrites whatever the workload held before, and a failing one
 * after a success leaves it empty. */
START_TEST(test_bad_after_good)
{
    struct dp_workload w;
    struct dp_err e = {{0}};
    ck_assert_int_eq(dp_mooncake_load(DATA("mooncake_head.jsonl"), &w, &e), 0);
    dp_workload_free(&w);
    ck_assert_int_ne(dp_mooncake_load(BAD("mooncake_zero_input.jsonl"), &w, &e), 0);
    assert_empty(&w);
}
END_TEST

/* ------------------------------------------------------------ sessions */

START_TEST(test_sessions_toy)
{
    struct dp_workload w;
    struct dp_err e = {{0}};
    ck_assert_msg(dp_trace_load(DATA("sessions_toy.jsonl"), DP_TRACE_AUTO, &w, &e) == 0, "%s",
                  e.msg);
    ck_assert_uint_eq(w.n_sessions, 3);
    /* Sorted by start: 5 (0 ms), 2 (500 ms), 9 (1500.25 ms). */
    ck_assert_uint_eq(w.sessions[0].id, 5);
    ck_assert_uint_eq(w.sessions[1].id, 2);
    ck_assert_uint_eq(w.sessions[2].id, 9);
    ck_assert_uint_eq(w.sessions[1].start_ns, 500000000ull);
    ck_assert_uint_eq(w.sessions[2].start_ns, 1500250000ull);
    ck_assert_int_eq(w.sessions[0].open_loop, 0);
    ck_assert_uint_eq(w.sessions[0].n_turns, 3);
    ck_assert_uint_eq(w.sessions[0].turns[2].think_ns, 2000500000ull);
    ck_assert_uint_eq(w.sessions[0].turns[2].append_tokens, 300);
    ck_assert_uint_eq(w.sessions[0].turns[2].input_tokens, 0);
    ck_assert_ptr_null(w.sessions[0].turns[2].hash_ids);
    ck_assert_uint_eq(w.sessions[1].turns[0].think_ns, 0);   /* first turn: ignored */
    ck_assert_uint_eq(w.sessions[2].turns[1].output_tokens, 30);

    /* By hand (block 512):
     *  5: inputs 1000, 1300, 1650; reuse 0, 1024 (of 1100), 1024 (of 1350)
     *  2: input 600, reuse 0
     *  9: inputs 100, 550; reuse 0, 0 (500 < one block)
     * inputs sorted 100 550 600 1000 1300 1650: p50 = 800,
     * p99 = 1300 + 0.95 * 350 = 1632.5. */
    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert_uint_eq(st.sessions, 3);
    ck_assert_uint_eq(st.requests, 6);
    ck_assert(close_to(st.turns_mean, 2.0, 1e-12));
    ck_assert(close_to(st.input_mean, 5200.0 / 6, 1e-12));
    ck_assert(close_to(st.input_p50, 800, 1e-12));
    ck_assert(close_to(st.input_p99, 1632.5, 1e-12));
    ck_assert(close_to(st.output_mean, 610.0 / 6, 1e-12));
    ck_assert(close_to(st.append_mean, 2250.0 / 6, 1e-12));
    ck_assert(close_to(st.reuse_fraction, 2048.0 / 5200, 1e-12));
    ck_assert(close_to(st.span_s, 1.50025, 1e-12));

    /* A different block size changes reuse: 256-token blocks give
     * 1024 + 1280 = 2304 for session 5 and 256 for session 9's second turn. */
    w.block_tokens = 256;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert(close_to(st.reuse_fraction, (1024.0 + 1280 + 256) / 5200, 1e-12));
    dp_workload_free(&w);
}
END_TEST

/* Open-loop reuse with sparse 64-bit ids (the hash set, not the bitmap). */
START_TEST(test_stats_sparse_hash_ids)
{
    struct dp_workload w;
    dp_workload_init(&w, 512);
    const uint64_t big = 1ull << 62;
    uint64_t a[] = {big, big + 7, UINT64_MAX, 5};
    uint64_t b[] = {big, big + 7, UINT64_MAX - 1};
    uint64_t c[] = {big, big + 7, UINT64_MAX, 5};
    struct dp_turn t = {.input_tokens = 2000, .append_tokens = 2000, .output_tokens = 1,
                        .n_hash = 4, .hash_ids = a};
    ck_assert_ptr_nonnull(dp_workload_add(&w, 0, 1, &t, 1));
    t.hash_ids = b;
    t.n_hash = 3;
    t.input_tokens = 1100;   /* 3 blocks, the last partial */
    ck_assert_ptr_nonnull(dp_workload_add(&w, 1, 1, &t, 1));
    t.hash_ids = c;
    t.n_hash = 4;
    t.input_tokens = 1900;   /* all 4 seen: 2048 capped at 1900 */
    ck_assert_ptr_nonnull(dp_workload_add(&w, 2, 1, &t, 1));
    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert(close_to(st.reuse_fraction, (0 + 1024 + 1900) / 5000.0, 1e-12));
    dp_workload_free(&w);

    /* An empty workload: zeros, no failure. */
    dp_workload_init(&w, 512);
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert_uint_eq(st.requests, 0);
}
END_TEST

static gsl_rng *rng_seeded(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    ck_assert_ptr_nonnull(r);
    gsl_rng_set(r, seed);
    return r;
}

static char tmpdir[256];

static void make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/dp_test_traces_XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

START_TEST(test_sessions_round_trip)
{
    struct dp_synth_params p;
    dp_synth_defaults(&p);
    p.agents = 300;
    p.start_spread_s = 12.345;   /* starts with sub-ms parts */
    p.turns_mean = 20;
    gsl_rng *r = rng_seeded(7);
    struct dp_workload w, back;
    struct dp_err e = {{0}};
    dp_workload_init(&w, 512);
    ck_assert_msg(dp_synth_generate(&p, r, &w, &e) == 0, "%s", e.msg);
    gsl_rng_free(r);
    make_tmpdir();
    char path[512], tmp[520];
    snprintf(path, sizeof path, "%s/sessions.jsonl", tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_msg(dp_sessions_write(path, &w, &e) == 0, "%s", e.msg);
    ck_assert_int_ne(access(tmp, F_OK), 0);   /* renamed away */
    ck_assert_msg(dp_trace_load(path, DP_TRACE_AUTO, &back, &e) == 0, "%s", e.msg);
    assert_same_workload(&w, &back);
    dp_workload_free(&back);

    /* The toy file survives write + read too (ids not in order, think 0). */
    dp_workload_free(&w);
    ck_assert_int_eq(dp_sessions_load(DATA("sessions_toy.jsonl"), &w, &e), 0);
    ck_assert_int_eq(dp_sessions_write(path, &w, &e), 0);
    ck_assert_int_eq(dp_sessions_load(path, &back, &e), 0);
    assert_same_workload(&w, &back);
    dp_workload_free(&back);
    dp_workload_free(&w);

    /* Open-loop sessions cannot be written; nothing is left behind. */
    remove(path);
    ck_assert_int_eq(dp_mooncake_load(DATA("mooncake_mixed.jsonl"), &w, &e), 0);
    ck_assert_int_eq(dp_sessions_write(path, &w, &e), DP_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "open-loop"));
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    dp_workload_free(&w);

    /* An empty workload is refused (the reader would refuse the file). */
    dp_workload_init(&w, 512);
    ck_assert_int_eq(dp_sessions_write(path, &w, &e), DP_EINVAL);
    ck_assert_int_ne(access(path, F_OK), 0);

    /* An unwritable place is an I/O error naming the file. */
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/s.jsonl", tmpdir);
    ck_assert_int_eq(dp_sessions_load(DATA("sessions_toy.jsonl"), &w, &e), 0);
    ck_assert_int_lt(dp_sessions_write(nodir, &w, &e), 0);
    ck_assert_ptr_nonnull(strstr(e.msg, "cannot open"));
    dp_workload_free(&w);
    rmdir(tmpdir);
}
END_TEST

/* ------------------------------------------------------------ generator */

START_TEST(test_synth_determinism)
{
    struct dp_synth_params p;
    dp_synth_defaults(&p);
    p.agents = 200;
    p.start_spread_s = 3;
    struct dp_workload a, b, c;
    struct dp_err e = {{0}};
    gsl_rng *r = rng_seeded(42);
    dp_workload_init(&a, 512);
    ck_assert_int_eq(dp_synth_generate(&p, r, &a, &e), 0);
    gsl_rng_set(r, 42);
    dp_workload_init(&b, 64);   /* the caller's block size is kept */
    ck_assert_int_eq(dp_synth_generate(&p, r, &b, &e), 0);
    gsl_rng_set(r, 43);
    /* c first holds another workload: generating replaces it */
    dp_workload_init(&c, 512);
    ck_assert_int_eq(dp_sessions_load(DATA("sessions_toy.jsonl"), &c, &e), 0);
    ck_assert_int_eq(dp_synth_generate(&p, r, &c, &e), 0);
    gsl_rng_free(r);
    assert_same_workload(&a, &b);
    ck_assert_str_eq(a.source, "synthetic");
    ck_assert_uint_eq(a.block_tokens, 512);
    ck_assert_uint_eq(b.block_tokens, 64);
    ck_assert_uint_eq(c.n_sessions, 200);
    /* Another seed: some turn differs. */
    int differs = dp_workload_total_turns(&a) != dp_workload_total_turns(&c);
    for (size_t i = 0; !differs && i < a.n_sessions; i++) {
        differs = a.sessions[i].start_ns != c.sessions[i].start_ns ||
                  a.sessions[i].n_turns != c.sessions[i].n_turns ||
                  a.sessions[i].turns[0].append_tokens != c.sessions[i].turns[0].append_tokens;
    }
    ck_assert(differs);
    /* Ids 0..n-1 in start order, starts within the spread. */
    for (size_t i = 0; i < a.n_sessions; i++) {
        ck_assert_uint_eq(a.sessions[i].id, i);
        ck_assert_uint_lt(a.sessions[i].start_ns, 3000000000ull);
        if (i)
            ck_assert_uint_ge(a.sessions[i].start_ns, a.sessions[i - 1].start_ns);
    }
    dp_workload_free(&a);
    dp_workload_free(&b);
    dp_workload_free(&c);
}
END_TEST

START_TEST(test_synth_defaults_statistics)
{
    struct dp_synth_params p;
    dp_synth_defaults(&p);
    p.agents = 20000;
    struct dp_workload w;
    struct dp_err e = {{0}};
    gsl_rng *r = rng_seeded(1);
    dp_workload_init(&w, 512);
    ck_assert_msg(dp_synth_generate(&p, r, &w, &e) == 0, "%s", e.msg);
    gsl_rng_free(r);
    ck_assert_uint_eq(w.n_sessions, 20000);
    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    /* The paper's characterization: ~157 turns, >95% reuse, tens of
     * thousands of tokens of context. */
    ck_assert_msg(close_to(st.turns_mean, 157, 0.05), "turns mean %.2f", st.turns_mean);
    ck_assert_msg(st.reuse_fraction > 0.95, "reuse %.4f", st.reuse_fraction);
    ck_assert_msg(close_to(st.output_mean, p.output_tokens_mean, 0.05), "output %.2f",
                  st.output_mean);
    ck_assert_msg(st.input_p50 > 10000 && st.input_p50 < 100000, "p50 %.0f", st.input_p50);
    /* Every session within max_context, every start at 0 (offline, no
     * spread), the first turn without think time, later appends averaging
     * the parameter. */
    double app = 0, think = 0;
    size_t n_later = 0;
    for (size_t i = 0; i < w.n_sessions; i++) {
        const struct dp_session *s = &w.sessions[i];
        uint64_t ctx = 0;
        REQUIRE(s->start_ns == 0);
        REQUIRE(s->turns[0].think_ns == 0);
        REQUIRE(s->n_turns <= p.turns_max);
        for (uint32_t k = 0; k < s->n_turns; k++) {
            REQUIRE(s->turns[k].append_tokens >= 1);
            REQUIRE(s->turns[k].output_tokens >= 1);
            ctx += s->turns[k].append_tokens + s->turns[k].output_tokens;
            if (k) {
                app += s->turns[k].append_tokens;
                think += (double)s->turns[k].think_ns;
                n_later++;
            }
        }
        REQUIRE(ctx <= p.max_context);
    }
    /* Slightly below the mean: a large draw is likelier to end a session. */
    ck_assert_msg(close_to(app / n_later, p.append_tokens_mean, 0.05), "append %.1f",
                  app / n_later);
    ck_assert_msg(close_to(think / n_later / 1e9, p.think_s_mean, 0.05), "think %.3f",
                  think / n_later / 1e9);
    dp_workload_free(&w);
}
END_TEST

/* With no context cap the turn law itself shows: mean and cv as asked. */
START_TEST(test_synth_turn_law)
{
    static const double cvs[] = {0.5, 1.0, 0.0};
    for (int i = 0; i < 3; i++) {
        struct dp_synth_params p;
        dp_synth_defaults(&p);
        p.agents = 20000;
        p.max_context = UINT32_MAX;
        p.turns_cv = cvs[i];
        p.turns_max = 100000;
        p.turns_mean = 157.5;
        struct dp_workload w;
        struct dp_err e = {{0}};
        gsl_rng *r = rng_seeded(3);
        dp_workload_init(&w, 512);
        ck_assert_int_eq(dp_synth_generate(&p, r, &w, &e), 0);
        gsl_rng_free(r);
        double sum = 0, sq = 0;
        for (size_t j = 0; j < w.n_sessions; j++) {
            sum += w.sessions[j].n_turns;
            sq += (double)w.sessions[j].n_turns * w.sessions[j].n_turns;
        }
        double mean = sum / w.n_sessions;
        double cv = sqrt(sq / w.n_sessions - mean * mean) / mean;
        ck_assert_msg(close_to(mean, 157.5, 0.02), "cv %.1f: mean %.2f", cvs[i], mean);
        if (cvs[i] > 0)
            ck_assert_msg(close_to(cv, cvs[i], 0.05), "cv %.1f: got %.3f", cvs[i], cv);
        else
            ck_assert_msg(cv < 0.01, "cv 0: got %.3f", cv);   /* 157 or 158 */
        dp_workload_free(&w);
    }
}
END_TEST

START_TEST(test_synth_online)
{
    struct dp_synth_params p;
    dp_synth_defaults(&p);
    p.rate = 5;
    p.duration_s = 200;
    p.turns_mean = 3;
    struct dp_workload w;
    struct dp_err e = {{0}};
    gsl_rng *r = rng_seeded(11);
    dp_workload_init(&w, 512);
    ck_assert_int_eq(dp_synth_generate(&p, r, &w, &e), 0);
    gsl_rng_free(r);
    /* Poisson: 1000 expected, sd ~32. */
    ck_assert_msg(w.n_sessions > 850 && w.n_sessions < 1150, "%zu sessions", w.n_sessions);
    for (size_t i = 0; i < w.n_sessions; i++) {
        ck_assert_uint_eq(w.sessions[i].id, i);
        ck_assert_uint_lt(w.sessions[i].start_ns, 200000000000ull);
        if (i)
            ck_assert_uint_ge(w.sessions[i].start_ns, w.sessions[i - 1].start_ns);
    }
    dp_workload_free(&w);
}
END_TEST

struct synth_bad {
    const char *field;
    void (*set)(struct dp_synth_params *p);
    const char *want;
};

static void set_turns0(struct dp_synth_params *p) { p->turns_mean = 0; }
static void set_rate_neg(struct dp_synth_params *p) { p->rate = -1; }
static void set_agents0(struct dp_synth_params *p) { p->agents = 0; }
static void set_cv_neg(struct dp_synth_params *p) { p->append_tokens_cv = -0.1; }
static void set_nan(struct dp_synth_params *p) { p->think_s_mean = NAN; }
static void set_duration0(struct dp_synth_params *p) { p->rate = 2; p->duration_s = 0; }
static void set_turns_max(struct dp_synth_params *p) { p->turns_max = 100; }
static void set_max_ctx(struct dp_synth_params *p) { p->max_context = 1; }
static void set_output0(struct dp_synth_params *p) { p->output_tokens_mean = 0; }
static void set_spread(struct dp_synth_params *p) { p->start_spread_s = -2; }

static const struct synth_bad synth_bad_cases[] = {
    {"turns_mean", set_turns0, "workload.synthetic.turns_mean: must be >= 1"},
    {"rate", set_rate_neg, "workload.synthetic.rate: must be >= 0"},
    {"agents", set_agents0, "workload.synthetic.agents: must be >= 1 when rate is 0"},
    {"append_tokens_cv", set_cv_neg, "workload.synthetic.append_tokens_cv: must be >= 0"},
    {"think_s_mean", set_nan, "workload.synthetic.think_s_mean: must be >= 0"},
    {"duration_s", set_duration0, "workload.synthetic.duration_s: must be > 0 when rate > 0"},
    {"turns_mean", set_turns_max, "workload.synthetic.turns_mean: must be <= turns_max"},
    {"max_context", set_max_ctx, "workload.synthetic.max_context: must be >= 2"},
    {"output_tokens_mean", set_output0, "workload.synthetic.output_tokens_mean: must be >= 1"},
    {"start_spread_s", set_spread, "workload.synthetic.start_spread_s: must be >= 0"},
};

START_TEST(test_synth_bad_params)
{
    const struct synth_bad *c = &synth_bad_cases[_i];
    struct dp_synth_params p;
    dp_synth_defaults(&p);
    c->set(&p);
    struct dp_workload w;
    struct dp_err e = {{0}};
    gsl_rng *r = rng_seeded(1);
    /* A workload that held sessions is left empty by the failure. */
    ck_assert_int_eq(dp_sessions_load(DATA("sessions_toy.jsonl"), &w, &e), 0);
    ck_assert_int_eq(dp_synth_generate(&p, r, &w, &e), DP_EINVAL);
    gsl_rng_free(r);
    assert_empty(&w);
    ck_assert_msg(strstr(e.msg, c->want) != NULL, "message \"%s\" lacks \"%s\"", e.msg,
                  c->want);
}
END_TEST

/* A tiny context cap: sessions stop early, the first turn is cut to fit. */
START_TEST(test_synth_context_cap)
{
    struct dp_synth_params p;
    dp_synth_defaults(&p);
    p.agents = 500;
    p.max_context = 5000;   /* below the mean prompt */
    struct dp_workload w;
    struct dp_err e = {{0}};
    gsl_rng *r = rng_seeded(5);
    dp_workload_init(&w, 512);
    ck_assert_int_eq(dp_synth_generate(&p, r, &w, &e), 0);
    gsl_rng_free(r);
    for (size_t i = 0; i < w.n_sessions; i++) {
        const struct dp_session *s = &w.sessions[i];
        uint64_t ctx = 0;
        REQUIRE(s->n_turns >= 1);
        for (uint32_t k = 0; k < s->n_turns; k++)
            ctx += s->turns[k].append_tokens + s->turns[k].output_tokens;
        REQUIRE(ctx <= 5000);
    }
    dp_workload_free(&w);
}
END_TEST

static Suite *traces_suite(void)
{
    Suite *s = suite_create("traces");
    TCase *tc = tcase_create("workload");
    tcase_add_test(tc, test_workload_arena);
    tcase_add_test(tc, test_workload_big_session);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("mooncake");
    tcase_add_test(tc, test_mooncake_head);
    tcase_add_test(tc, test_mooncake_mixed);
    tcase_add_test(tc, test_mooncake_fast_path_matches_jansson);
    tcase_add_test(tc, test_mooncake_shared_full);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, test_bad_after_good);
    suite_add_tcase(s, tc);

    tc = tcase_create("sessions");
    tcase_add_test(tc, test_sessions_toy);
    tcase_add_test(tc, test_stats_sparse_hash_ids);
    tcase_add_test(tc, test_sessions_round_trip);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("synth");
    tcase_add_test(tc, test_synth_determinism);
    tcase_add_test(tc, test_synth_defaults_statistics);
    tcase_add_test(tc, test_synth_turn_law);
    tcase_add_test(tc, test_synth_online);
    tcase_add_test(tc, test_synth_context_cap);
    tcase_add_loop_test(tc, test_synth_bad_params, 0,
                        (int)(sizeof synth_bad_cases / sizeof synth_bad_cases[0]));
    tcase_set_timeout(tc, 300);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(traces_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0;
}
