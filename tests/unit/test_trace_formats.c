/* traces/: the Qwen-Bailian and Dynamo agentic readers (DAG sessions),
 * their errors, block-size conversion, open-loop flattening, conversion to
 * the sessions and Mooncake formats, and closed-loop DAG replay through
 * core on the fake platform. Expected values are worked by hand from
 * tests/data/bailian_toy.jsonl and agentic_toy.jsonl (traces/README.md). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/metrics.h"
#include "core/scenario.h"
#include "traces/trace.h"
#include "traces/trace_internal.h"

#include "fake_platform.h"

#define DATA(f) DP_TEST_DATA "/" f
#define BAD(f) DP_TEST_DATA "/bad/" f
#define MS 1000000ull

static int near(double a, double b) { return fabs(a - b) <= 1e-9 * (fabs(b) + 1); }

static void load(const char *path, struct dp_workload *w)
{
    struct dp_err err = { "" };
    ck_assert_msg(dp_trace_load(path, DP_TRACE_AUTO, w, &err) == 0, "%s", err.msg);
}

/* ---- Qwen-Bailian ---- */

START_TEST(bailian_toy)
{
    struct dp_workload w;
    load(DATA("bailian_toy.jsonl"), &w);
    ck_assert_uint_eq(w.hash_tokens, 16);
    ck_assert_uint_eq(w.n_sessions, 2);
    const struct dp_session *a = &w.sessions[0], *b = &w.sessions[1];
    /* tree of chat 1: 1, 3, then 5 and 6 (both children of 3), by time */
    ck_assert_uint_eq(a->n_turns, 4);
    ck_assert_ptr_nonnull(a->links);
    ck_assert_uint_eq(a->start_ns, 0);
    const uint32_t in[] = { 40, 70, 100, 90 }, out[] = { 10, 8, 12, 4 };
    const uint64_t think[] = { 0, 2000 * MS, 2250 * MS, 3000 * MS };
    const uint64_t at[] = { 0, 2000 * MS, 4250 * MS, 5000 * MS };
    const uint32_t dep[] = { 0, 0, 1, 1 };
    for (uint32_t k = 0; k < 4; k++) {
        ck_assert_uint_eq(a->turns[k].input_tokens, in[k]);
        ck_assert_uint_eq(a->turns[k].output_tokens, out[k]);
        ck_assert_uint_eq(a->turns[k].think_ns, think[k]);
        ck_assert_uint_eq(a->links[k].at_ns, at[k]);
        ck_assert_uint_eq(a->links[k].n_deps, k ? 1 : 0);
        if (k)
            ck_assert_uint_eq(a->links[k].deps[0], dep[k]);
    }
    ck_assert(a->links[0].flags & DP_TURN_RESET);
    /* new tokens over the parent's context (input + output) */
    ck_assert_uint_eq(a->turns[1].append_tokens, 70 - 50);
    ck_assert_uint_eq(a->turns[3].append_tokens, 90 - 78);
    /* chat 2 and its child 4 */
    ck_assert_uint_eq(b->n_turns, 2);
    ck_assert_uint_eq(b->start_ns, 500 * MS);
    ck_assert_uint_eq(b->turns[1].think_ns, 2500 * MS);
    ck_assert_uint_eq(b->links[1].at_ns, 2500 * MS);
    /* chained ids: the first block (per-block id 1) is shared by both
     * conversations; chat 3 repeats chat 1's three blocks */
    ck_assert_uint_eq(a->turns[0].hash_ids[0], b->turns[0].hash_ids[0]);
    ck_assert_uint_ne(a->turns[0].hash_ids[1], b->turns[0].hash_ids[1]);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(a->turns[1].hash_ids[i], a->turns[0].hash_ids[i]);

    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert_uint_eq(st.requests, 6);
    /* reuse by issue time: 0 + 16 + 48 + 32 + 80 + 80 of 353 tokens */
    ck_assert(near(st.reuse_fraction, 256.0 / 353));
    ck_assert(near(st.think_mean_s, (2.0 + 2.25 + 3.0 + 2.5) / 4));
    ck_assert(near(st.growth_mean, (30 + 30 + 20 + 13) / 4.0));
    ck_assert(near(st.span_s, 5.0));
    ck_assert_uint_eq(st.dag_sessions, 1);   /* chat 3 has two children */
    /* 64-token blocks: only whole 64-token prefixes are shared (5 and 6
     * share chat 3's first block): 128 of 353 */
    struct dp_err err = { "" };
    ck_assert_int_eq(dp_workload_rebloc(&w, 64, &err), 0);
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert(near(st.reuse_fraction, 128.0 / 353));
    dp_workload_free(&w);
}
END_TEST

/* ---- Dynamo agentic rows ---- */

START_TEST(agentic_toy)
{
    struct dp_workload w;
    load(DATA("agentic_toy.jsonl"), &w);
    ck_assert_uint_eq(w.hash_tokens, 64);   /* inferred: 300 tokens in 5 ids */
    ck_assert_uint_eq(w.n_sessions, 2);
    const struct dp_session *a = &w.sessions[0], *x = &w.sessions[1];
    /* p1, p2, c1, c2, p3: sub-agent c spawned by p2, joined by p3 */
    ck_assert_uint_eq(a->n_turns, 5);
    const uint32_t in[] = { 300, 400, 128, 200, 520 };
    const uint64_t think[] = { 0, 1200 * MS, 50 * MS, 120 * MS, 100 * MS };
    const uint64_t tool[] = { 0, 1000 * MS, 0, 100 * MS, 0 };
    for (uint32_t k = 0; k < 5; k++) {
        ck_assert_uint_eq(a->turns[k].input_tokens, in[k]);
        ck_assert_uint_eq(a->turns[k].think_ns, think[k]);
        ck_assert_uint_eq(a->links[k].tool_ns, tool[k]);
    }
    ck_assert_uint_eq(a->links[2].n_deps, 1);   /* branches repeats wait_for: once */
    ck_assert_uint_eq(a->links[2].deps[0], 1);
    ck_assert(a->links[2].flags & DP_TURN_RESET);
    ck_assert_uint_eq(a->turns[2].append_tokens, 128);   /* a fresh context */
    ck_assert_uint_eq(a->links[4].n_deps, 2);
    ck_assert_uint_eq(a->links[4].deps[0], 1);
    ck_assert_uint_eq(a->links[4].deps[1], 3);
    ck_assert_uint_eq(x->n_turns, 1);
    ck_assert_uint_eq(x->start_ns, 500 * MS);

    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert(near(st.reuse_fraction, (320.0 + 128 + 448) / 1612));
    ck_assert(near(st.tool_share, 1.1 / 1.47));
    ck_assert(near(st.growth_mean, (100 + 72 + 120) / 3.0));
    ck_assert(near(st.span_s, 3.0));
    dp_workload_free(&w);
}
END_TEST

START_TEST(agentic_hash_block_given)
{
    struct dp_workload w;
    struct dp_err err = { "" };
    struct dp_trace_opts o = { DP_TRACE_AGENTIC, 128 };
    ck_assert_int_eq(dp_trace_load_opts(DATA("agentic_toy.jsonl"), &o, &w, &err), DP_EINVAL);
    ck_assert_msg(strstr(err.msg, "agentic_toy.jsonl:1: field 'hash_ids': 5 ids for input_length 300"),
                  "%s", err.msg);
    o.hash_tokens = 64;
    ck_assert_int_eq(dp_trace_load_opts(DATA("agentic_toy.jsonl"), &o, &w, &err), 0);
    dp_workload_free(&w);
}
END_TEST

/* ---- errors: file:line: field ---- */

START_TEST(bad_inputs)
{
    static const struct { const char *file, *want; } cases[] = {
        { "bailian_missing_parent.jsonl", "bailian_missing_parent.jsonl:2: field 'parent_chat_id': chat 7 is not in the file" },
        { "bailian_truncated.jsonl", "bailian_truncated.jsonl:2: truncated record" },
        { "bailian_cycle.jsonl", "bailian_cycle.jsonl:1: field 'parent_chat_id': cycle: '1' waits for '2' waits for '1'" },
        { "bailian_too_many_hash_ids.jsonl", ":1: field 'hash_ids': 4 ids for input_length 40: at most 3 blocks of 16 tokens" },
        { "bailian_duplicate_id.jsonl", ":2: field 'chat_id': duplicate id 1 (first on line 1)" },
        { "bailian_wrong_type.jsonl", ":1: field 'timestamp': must be a number (seconds), got a string" },
        { "agentic_cycle.jsonl", "agentic_cycle.jsonl:1: field 'wait_for': cycle: 'a' waits for 'c' waits for 'b' waits for 'a'" },
        { "agentic_missing_dep.jsonl", ":2: field 'wait_for': request 'z' is not in the file" },
        { "agentic_missing_branch.jsonl", ":1: field 'branches': request 'q' is not in the file" },
        { "agentic_hash_block.jsonl", ":1: field 'hash_ids': the rows fit no block size" },
        { "agentic_root_no_timestamp.jsonl", ":1: field 'timestamp': missing" },
        { "agentic_truncated.jsonl", ":2: truncated record at column 49 (last line, no newline" },
        { "agentic_wrong_type.jsonl", ":1: field 'prefix_reset': must be true or false, got a string" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        struct dp_workload w;
        struct dp_err err = { "" };
        snprintf(path, sizeof path, "%s", BAD("") );
        strncat(path, cases[i].file, sizeof path - strlen(path) - 1);
        ck_assert_int_eq(dp_trace_load(path, DP_TRACE_AUTO, &w, &err), DP_EINVAL);
        ck_assert_msg(strstr(err.msg, cases[i].want), "%s: got '%s'", cases[i].file, err.msg);
        ck_assert_uint_eq(w.n_sessions, 0);
    }
}
END_TEST

/* ---- block-size conversion ---- */

START_TEST(rebloc_finer_and_coarser)
{
    struct dp_workload w;
    struct dp_err err = { "" };
    dp_workload_init(&w, 512);
    w.hash_tokens = 512;
    uint64_t a_ids[] = { 7, 8 }, b_ids[] = { 7, 9 };
    struct dp_turn a = { .input_tokens = 1000, .append_tokens = 1000, .n_hash = 2, .hash_ids = a_ids };
    struct dp_turn b = { .input_tokens = 600, .append_tokens = 600, .n_hash = 2, .hash_ids = b_ids };
    ck_assert_ptr_nonnull(dp_workload_add(&w, 0, 1, &a, 1));
    ck_assert_ptr_nonnull(dp_workload_add(&w, 1, 1, &b, 1));
    /* 512 -> 128: 1000 tokens are 8 blocks, 600 tokens 5; the first 4 are
     * block 7's quarters in both, the 5th differs (8 vs 9) */
    ck_assert_int_eq(dp_workload_rebloc(&w, 128, &err), 0);
    ck_assert_uint_eq(w.block_tokens, 128);
    const struct dp_turn *x = &w.sessions[0].turns[0], *y = &w.sessions[1].turns[0];
    ck_assert_uint_eq(x->n_hash, 8);
    ck_assert_uint_eq(y->n_hash, 5);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(x->hash_ids[i], y->hash_ids[i]);
    ck_assert_uint_ne(x->hash_ids[4], y->hash_ids[4]);
    struct dp_trace_stats st;
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert(near(st.reuse_fraction, 512.0 / 1600));   /* as at 512: nothing lost */
    /* back up to 256: block j is named by the 128-id at 2j+1 */
    ck_assert_int_eq(dp_workload_rebloc(&w, 256, &err), 0);
    ck_assert_uint_eq(w.sessions[0].turns[0].n_hash, 4);
    ck_assert_uint_eq(w.sessions[1].turns[0].n_hash, 3);
    ck_assert_int_eq(dp_trace_stats(&w, &st), 0);
    ck_assert(near(st.reuse_fraction, 512.0 / 1600));
    /* neither divides the other */
    ck_assert_int_eq(dp_workload_rebloc(&w, 96, &err), DP_EINVAL);
    ck_assert_msg(strstr(err.msg, "256-token blocks and the scenario's workload.block_tokens is 96"),
                  "%s", err.msg);
    dp_workload_free(&w);
}
END_TEST

/* ---- open loop, conversion ---- */

START_TEST(open_loop_and_convert)
{
    struct dp_workload w, back;
    struct dp_err err = { "" };
    load(DATA("agentic_toy.jsonl"), &w);
    ck_assert_int_eq(dp_workload_open_loop(&w, &err), 0);
    ck_assert_uint_eq(w.n_sessions, 6);
    const uint64_t at[] = { 0, 500, 1500, 1700, 2000, 3000 };
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(w.sessions[i].start_ns, at[i] * MS);
        ck_assert(w.sessions[i].open_loop);
    }
    ck_assert_int_eq(dp_workload_rebloc(&w, 512, &err), 0);
    char path[] = "/tmp/dp_test_convert_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_msg(dp_mooncake_write(path, &w, &err) == 0, "%s", err.msg);
    load(path, &back);
    ck_assert_uint_eq(back.n_sessions, 6);
    for (int i = 0; i < 6; i++) {
        ck_assert_uint_eq(back.sessions[i].start_ns, w.sessions[i].start_ns);
        ck_assert_uint_eq(back.sessions[i].turns[0].input_tokens, w.sessions[i].turns[0].input_tokens);
        ck_assert_uint_eq(back.sessions[i].turns[0].n_hash, w.sessions[i].turns[0].n_hash);
    }
    /* p2 (400 tokens) holds no whole 512-token block, so p3 (520) shares
     * none with it: its first block names a longer prefix */
    ck_assert_uint_ne(back.sessions[5].turns[0].hash_ids[0], back.sessions[2].turns[0].hash_ids[0]);
    dp_workload_free(&back);
    dp_workload_free(&w);

    /* to sessions: a DAG with a branch and a join is written as its chain */
    uint64_t reshaped;
    load(DATA("agentic_toy.jsonl"), &w);
    ck_assert_int_eq(dp_workload_chains(&w, &reshaped, &err), 0);
    ck_assert_uint_eq(reshaped, 1);
    ck_assert_msg(dp_sessions_write(path, &w, &err) == 0, "%s", err.msg);
    load(path, &back);
    ck_assert_uint_eq(back.n_sessions, 2);
    ck_assert_uint_eq(back.sessions[0].n_turns, 5);
    ck_assert_uint_eq(back.sessions[0].turns[1].append_tokens, 400 - 320);
    ck_assert_uint_eq(back.sessions[0].turns[1].think_ns, 1200 * MS);
    dp_workload_free(&back);
    dp_workload_free(&w);
    unlink(path);
}
END_TEST

/* ---- closed-loop DAG replay on the fake platform ---- */

static const struct dp_req_rec *rec_of(const struct dp_metrics *m, uint64_t sess, uint32_t turn)
{
    for (size_t i = 0; i < m->n_recs; i++)
        if (m->recs[i].session == sess && m->recs[i].turn == turn)
            return &m->recs[i];
    ck_abort_msg("no record of session %llu turn %u", (unsigned long long)sess, turn);
    return NULL;
}

START_TEST(dag_closed_loop_replay)
{
    struct dp_scenario sc;
    struct dp_workload w;
    struct dp_err err = { "" };
    ck_assert_msg(dp_scenario_load(&sc, DATA("small.yaml"), &err) == 0, "%s", err.msg);
    ck_assert_msg(dp_workload_build(&sc, DATA("agentic_toy.jsonl"), &w, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(w.block_tokens, sc.workload.block_tokens);
    struct fake f;
    memset(&f, 0, sizeof f);
    fake_run(&f, &sc, &w);
    const struct dp_metrics *m = dp_core_metrics(f.core);
    const struct dp_req_rec *p1 = rec_of(m, 0, 0), *p2 = rec_of(m, 0, 1), *c1 = rec_of(m, 0, 2);
    const struct dp_req_rec *c2 = rec_of(m, 0, 3), *p3 = rec_of(m, 0, 4), *x1 = rec_of(m, 1, 0);
    ck_assert(near(p1->t_issue, 0));
    ck_assert(near(x1->t_issue, 0.5));
    /* after the dependency's last token, delay + tool_wait_ms */
    ck_assert(near(p2->t_issue, p1->t_done + 1.2));
    ck_assert(near(c1->t_issue, p2->t_done + 0.05));
    ck_assert(near(c2->t_issue, c1->t_done + 0.12));
    /* the join waits for both p2 and the sub-agent's last request */
    ck_assert(near(p3->t_issue, fmax(p2->t_done, c2->t_done) + 0.1));
    ck_assert_uint_eq(p3->input_tokens, 520);
    dp_core_destroy(f.core);
    free(f.ev);
    dp_workload_free(&w);
}
END_TEST

START_TEST(time_scale_keeps_dependencies)
{
    struct dp_scenario sc;
    struct dp_workload w;
    struct dp_err err = { "" };
    ck_assert_msg(dp_scenario_load(&sc, DATA("small.yaml"), &err) == 0, "%s", err.msg);
    ck_assert_int_eq(dp_scenario_set(&sc, "workload.time_scale", "0.5", "--set", &err), 0);
    ck_assert_msg(dp_workload_build(&sc, DATA("agentic_toy.jsonl"), &w, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(w.sessions[1].start_ns, 250 * MS);       /* an arrival: scaled */
    ck_assert_uint_eq(w.sessions[0].turns[1].think_ns, 1200 * MS);   /* a gap: kept */
    dp_workload_free(&w);
    /* --rate: 2 sessions over 0.5 s -> 1 gap; rate 4/s puts them 0.25 s apart */
    ck_assert_int_eq(dp_scenario_set(&sc, "workload.time_scale", "1", "--set", &err), 0);
    ck_assert_int_eq(dp_scenario_set(&sc, "workload.rate", "4", "--set", &err), 0);
    ck_assert_msg(dp_workload_build(&sc, DATA("agentic_toy.jsonl"), &w, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(w.sessions[1].start_ns, 250 * MS);
    dp_workload_free(&w);
    /* open loop at the recorded times, 6 requests */
    ck_assert_int_eq(dp_scenario_set(&sc, "workload.rate", "0", "--set", &err), 0);
    ck_assert_int_eq(dp_scenario_set(&sc, "workload.replay", "open", "--set", &err), 0);
    ck_assert_msg(dp_workload_build(&sc, DATA("bailian_toy.jsonl"), &w, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(w.n_sessions, 6);
    ck_assert_uint_eq(w.sessions[5].start_ns, 5000 * MS);
    dp_workload_free(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trace_formats");
    TCase *t = tcase_create("formats");
    tcase_add_test(t, bailian_toy);
    tcase_add_test(t, agentic_toy);
    tcase_add_test(t, agentic_hash_block_given);
    tcase_add_test(t, bad_inputs);
    tcase_add_test(t, rebloc_finer_and_coarser);
    tcase_add_test(t, open_loop_and_convert);
    tcase_add_test(t, dag_closed_loop_replay);
    tcase_add_test(t, time_scale_keeps_dependencies);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
