/* The run-time invariant checker (sim/invariants.h): small scenarios of every
 * kind run with it forced on and finish without a violation, including the
 * documented exception (one request larger than an engine's memory, alone);
 * and each check catches a violation planted in a hand-built state. */
#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/metrics.h"
#include "sim/invariants.h"
#include "sim/links.h"
#include "sim/run.h"
#include "sim/simplat.h"
#include "traces/trace.h"

static void load(struct dp_scenario *sc, const char *file)
{
    struct dp_err err = { "" };
    ck_assert_msg(dp_scenario_load(sc, file, &err) == 0, "%s", err.msg);
}

static void set(struct dp_scenario *sc, const char *key, const char *value)
{
    struct dp_err err = { "" };
    ck_assert_msg(dp_scenario_set(sc, key, value, "test", &err) == 0, "%s", err.msg);
}

static double series_max(const struct dp_metrics *m, int k)
{
    double x = 0;
    for (size_t i = 0; i < m->n_samples * m->n_engines; i++)
        if (m->series[k][i] > x)
            x = m->series[k][i];
    return x;
}

static double max_dram, max_hbm;   /* of the last run_checked */

/* Run with the checker on; the run must finish without a violation. */
static void run_checked(const struct dp_scenario *sc, const char *trace)
{
    struct dp_workload w;
    struct dp_err err = { "" };
    memset(&w, 0, sizeof w);
    setenv("DUALPATH_CHECK", "1", 1);
    ck_assert(dp_inv_wanted());
    ck_assert_msg(dp_workload_build(sc, trace, &w, &err) == 0, "%s", err.msg);
    struct dp_sim_result res;
    int rc = dp_sim_run(sc, &w, NULL, &res, &err);
    ck_assert_msg(rc == 0, "%s / %s: %s", sc->name, sc->policy.name, err.msg);
    ck_assert_uint_eq(res.metrics.n_recs, dp_workload_total_turns(&w));
    ck_assert_int_eq(res.metrics.complete, 1);
    max_dram = series_max(&res.metrics, DP_S_DRAM);
    max_hbm = series_max(&res.metrics, DP_S_HBM);
    dp_sim_result_free(&res);
    dp_workload_free(&w);
}

START_TEST(every_policy_small)
{
    static const char *const policies[] = { "basic", "dualpath", "oracle", "de_only" };
    for (int i = 0; i < 4; i++) {
        struct dp_scenario sc;
        load(&sc, DP_TEST_DATA "/small.yaml");
        set(&sc, "policy.name", policies[i]);
        run_checked(&sc, NULL);
    }
}
END_TEST

START_TEST(moe_collectives_and_no_isolation)
{
    struct dp_scenario sc;
    load(&sc, DP_TEST_DATA "/small_moe.yaml");
    run_checked(&sc, NULL);
    set(&sc, "traffic.isolation", "false");
    set(&sc, "policy.name", "dualpath");
    run_checked(&sc, NULL);
}
END_TEST

START_TEST(quickstart_small)
{
    struct dp_scenario sc;
    load(&sc, DP_SOURCE_DIR "/scenarios/quickstart.yaml");
    set(&sc, "workload.synthetic.agents", "32");
    set(&sc, "workload.synthetic.turns_mean", "8");
    run_checked(&sc, NULL);
    set(&sc, "policy.name", "dualpath");
    run_checked(&sc, NULL);
}
END_TEST

START_TEST(traces_open_and_closed_loop)
{
    struct dp_scenario sc;
    load(&sc, DP_TEST_DATA "/small.yaml");
    run_checked(&sc, DP_TEST_DATA "/mooncake_head.jsonl");
    run_checked(&sc, DP_TEST_DATA "/sessions_toy.jsonl");
    set(&sc, "policy.name", "dualpath");
    run_checked(&sc, DP_TEST_DATA "/mooncake_head.jsonl");
    /* a bounded storage backend joins every read's path */
    set(&sc, "hardware.storage_read_bw", "2e10");
    set(&sc, "hardware.storage_write_bw", "1e10");
    run_checked(&sc, NULL);
}
END_TEST

/* The documented exception: requests larger than a whole DRAM buffer, and
 * larger than a decode engine's HBM, each run alone on an empty engine. */
START_TEST(sole_occupant_allowed)
{
    struct dp_scenario sc;
    load(&sc, DP_TEST_DATA "/small.yaml");
    double kv_tok = dp_kv_bytes_per_token(&sc.model);
    char v[64];
    /* DRAM buffers of 1,000 tokens' KV: every cached prefix (~4,000) exceeds it */
    snprintf(v, sizeof v, "%.0f", 1000 * kv_tok);
    set(&sc, "hardware.dram_buffer_bytes", v);
    set(&sc, "run.sample_interval_s", "0.01");
    run_checked(&sc, NULL);
    ck_assert_msg(max_dram > 1000 * kv_tok, "DRAM never above capacity: %g", max_dram);
    /* decode HBM with room for 2,000 tokens after the weights */
    double weights = sc.model.params_total * sc.model.weight_dtype_bytes;
    snprintf(v, sizeof v, "%.0f", (weights + 2000 * kv_tok) / (0.9 * sc.cluster.decode_gpus));
    set(&sc, "hardware.gpu_hbm_bytes", v);
    set(&sc, "policy.name", "dualpath");
    run_checked(&sc, NULL);
    ck_assert_msg(max_hbm > 2000 * kv_tok, "HBM never above capacity: %g", max_hbm);
}
END_TEST

/* A run cut by run.max_time_s checks what finished, not the totals; and
 * frees what was in flight (requests, batches, steps) at any cut. */
START_TEST(cut_by_max_time)
{
    static const char *const cuts[] = { "0.05", "0.3", "0.7", "1.1", "1.5", "2.5" };
    for (int i = 0; i < 6; i++) {
        struct dp_scenario sc;
        load(&sc, DP_TEST_DATA "/small.yaml");
        set(&sc, "run.max_time_s", cuts[i]);
        set(&sc, "policy.name", i % 2 ? "dualpath" : "basic");
        struct dp_workload w;
        struct dp_err err = { "" };
        setenv("DUALPATH_CHECK", "1", 1);
        ck_assert(dp_workload_build(&sc, NULL, &w, &err) == 0);
        struct dp_sim_result res;
        ck_assert_msg(dp_sim_run(&sc, &w, NULL, &res, &err) == 0, "%s", err.msg);
        ck_assert_uint_lt(res.metrics.n_recs, dp_workload_total_turns(&w));
        dp_sim_result_free(&res);
        dp_workload_free(&w);
    }
}
END_TEST

/* An interrupted run stops at once and is marked incomplete. */
START_TEST(interrupt_flag)
{
    struct dp_scenario sc;
    load(&sc, DP_TEST_DATA "/small.yaml");
    struct dp_workload w;
    struct dp_err err = { "" };
    setenv("DUALPATH_CHECK", "1", 1);
    ck_assert(dp_workload_build(&sc, NULL, &w, &err) == 0);
    volatile sig_atomic_t flag = SIGINT;
    struct dp_sim_opts o = { .label = "t", .interrupt = &flag };
    struct dp_sim_result res;
    ck_assert_int_eq(dp_sim_run(&sc, &w, &o, &res, &err), DP_EINTR);
    ck_assert(res.interrupted);
    ck_assert_int_eq(res.metrics.complete, 0);
    ck_assert_uint_lt(res.metrics.n_recs, dp_workload_total_turns(&w));
    ck_assert_msg(strstr(err.msg, "interrupted"), "%s", err.msg);
    dp_sim_result_free(&res);
    dp_workload_free(&w);
}
END_TEST

/* ---- planted violations ------------------------------------------------ */

START_TEST(catches_link_over_bandwidth)
{
    struct dp_evq q;
    struct dp_net net;
    ck_assert_int_eq(dp_evq_init(&q), 0);
    ck_assert_int_eq(dp_net_init(&net, &q), 0);
    int a = dp_net_add_link(&net, "a", 1e9), b = dp_net_add_link(&net, "b", 2e9);
    ck_assert(a >= 0 && b >= 0);
    struct dp_inv iv;
    dp_inv_init(&iv, NULL, 1);
    ck_assert_int_eq(dp_inv_links(&iv, &net, 0), 0);
    /* b at its bandwidth exactly: fine */
    net.links[b].rate = 2e9;
    ck_assert_int_eq(dp_inv_links(&iv, &net, 1000), 0);
    /* a above it */
    net.links[a].rate = 1e9 * (1 + 1e-6);
    ck_assert_int_eq(dp_inv_links(&iv, &net, 2000), 1);
    ck_assert_uint_ge(iv.violations, 1);
    ck_assert_msg(strstr(iv.first, "link a") && strstr(iv.first, "exceeds"), "%s", iv.first);
    struct dp_err err = { "" };
    ck_assert_int_eq(dp_inv_error(&iv, &err), DP_ESTATE);
    ck_assert_msg(strstr(err.msg, "invariant violated: link a"), "%s", err.msg);
    dp_inv_free(&iv);

    /* a rate within bounds but bytes that do not fit the window */
    dp_inv_init(&iv, NULL, 1);
    net.links[a].rate = 0;
    ck_assert_int_eq(dp_inv_links(&iv, &net, 2000), 0);
    net.links[a].bytes += 5000;   /* 5,000 B in 1 us over 1 GB/s: room for ~1,002 B */
    ck_assert_int_eq(dp_inv_links(&iv, &net, 3000), 1);
    ck_assert_msg(strstr(iv.first, "carried"), "%s", iv.first);
    dp_inv_free(&iv);
    dp_net_free(&net);
    dp_evq_free(&q);
}
END_TEST

START_TEST(catches_time_going_back)
{
    struct dp_inv iv;
    dp_inv_init(&iv, NULL, 1);
    ck_assert_int_eq(dp_inv_time(&iv, 10), 0);
    ck_assert_int_eq(dp_inv_time(&iv, 10), 0);
    ck_assert_int_eq(dp_inv_time(&iv, 20), 0);
    ck_assert_int_eq(dp_inv_time(&iv, 19), 1);
    ck_assert_msg(strstr(iv.first, "time went back"), "%s", iv.first);
    dp_inv_free(&iv);
}
END_TEST

START_TEST(catches_memory_over_capacity)
{
    /* one session, one turn of 1,000 tokens in, 100 out: 1,100 B at 1 B/token */
    struct dp_workload w;
    struct dp_turn t = { .append_tokens = 1000, .output_tokens = 100 };
    dp_workload_init(&w, 64);
    ck_assert_ptr_nonnull(dp_workload_add(&w, 0, 0, &t, 1));
    struct dp_inv iv;
    dp_inv_init(&iv, &w, 1.0);
    ck_assert(fabs(iv.max_req_bytes - 1100) < 1e-9);
    struct dp_engine e[2];
    memset(e, 0, sizeof e);
    e[0].id = 0;
    e[0].role = DP_ROLE_PREFILL;
    e[1].id = 1;
    e[1].role = DP_ROLE_DECODE;
    for (int i = 0; i < 2; i++)
        e[i].hbm_cap = e[i].dram_cap = 500;
    e[0].hbm_used = e[0].dram_used = e[1].hbm_used = e[1].dram_used = 500;
    ck_assert_int_eq(dp_inv_engines(&iv, e, 2, 0), 0);
    /* decode HBM above capacity with one request alone: the exception */
    e[1].hbm_used = 1100;
    e[1].n_running = 1;
    ck_assert_int_eq(dp_inv_engines(&iv, e, 2, 0), 0);
    /* ... with a second one moving in: a violation */
    e[1].n_incoming = 1;
    ck_assert_int_eq(dp_inv_engines(&iv, e, 2, 5), 1);
    ck_assert_msg(strstr(iv.first, "decode engine 1") && strstr(iv.first, "HBM"), "%s", iv.first);
    dp_inv_free(&iv);

    dp_inv_init(&iv, &w, 1.0);
    e[1].hbm_used = 0;
    e[1].n_running = e[1].n_incoming = 0;
    /* DRAM above capacity but within one request: allowed */
    e[0].dram_used = 1100;
    ck_assert_int_eq(dp_inv_engines(&iv, e, 2, 0), 0);
    /* more than any single request can hold: a violation */
    e[0].dram_used = 1101 + 1;
    ck_assert_int_eq(dp_inv_engines(&iv, e, 2, 0), 1);
    ck_assert_msg(strstr(iv.first, "prefill engine 0") && strstr(iv.first, "DRAM"), "%s", iv.first);
    dp_inv_free(&iv);

    dp_inv_init(&iv, &w, 1.0);
    e[0].dram_used = 0;
    e[0].hbm_used = -1;
    ck_assert_int_eq(dp_inv_engines(&iv, e, 2, 0), 1);
    dp_inv_free(&iv);
    dp_workload_free(&w);
}
END_TEST

static struct dp_req_rec rec(uint64_t id, uint64_t session, uint32_t turn)
{
    return (struct dp_req_rec){ .id = id, .session = session, .turn = turn, .t_issue = 1,
                                .t_ready = 2, .t_prefill = 3, .t_first = 4, .t_decode = 5,
                                .t_done = 6 };
}

START_TEST(catches_request_twice_or_missing)
{
    struct dp_metrics m;
    ck_assert_int_eq(dp_metrics_init(&m, 2), 0);
    struct dp_req_rec r0 = rec(0, 7, 0), r1 = rec(1, 7, 1);
    dp_metrics_add(&m, &r0);
    dp_metrics_add(&m, &r1);
    struct dp_inv iv;
    dp_inv_init(&iv, NULL, 1);
    ck_assert_int_eq(dp_inv_records(&iv, &m, 2, 1), 0);
    /* one missing */
    ck_assert_int_eq(dp_inv_records(&iv, &m, 3, 1), 1);
    ck_assert_msg(strstr(iv.first, "2 request records for 3"), "%s", iv.first);
    dp_inv_free(&iv);
    /* the same request twice */
    dp_inv_init(&iv, NULL, 1);
    struct dp_req_rec dup = rec(1, 7, 1);
    dp_metrics_add(&m, &dup);
    ck_assert_int_ne(dp_inv_records(&iv, &m, 3, 1), 0);
    ck_assert_msg(strstr(iv.first, "request 1 completed more than once"), "%s", iv.first);
    dp_inv_free(&iv);
    /* a record whose times go back */
    dp_inv_init(&iv, NULL, 1);
    m.recs[2].id = 2;
    m.recs[2].turn = 2;
    m.recs[2].t_first = 2.5;
    ck_assert_int_ne(dp_inv_records(&iv, &m, 3, 1), 0);
    ck_assert_msg(strstr(iv.first, "times go back"), "%s", iv.first);
    dp_inv_free(&iv);
    dp_metrics_free(&m);
}
END_TEST

/* A request that needed KV from storage on a cluster whose links moved
 * nothing: bytes delivered != bytes required. */
START_TEST(catches_bytes_not_conserved)
{
    struct dp_scenario sc;
    load(&sc, DP_TEST_DATA "/small.yaml");
    struct dp_sim s;
    struct dp_err err = { "" };
    ck_assert_int_eq(dp_sim_init(&s, &sc, &err), 0);
    struct dp_workload w;
    struct dp_turn t = { .append_tokens = 640, .output_tokens = 10 };
    dp_workload_init(&w, 64);
    ck_assert_ptr_nonnull(dp_workload_add(&w, 0, 0, &t, 1));
    struct dp_metrics m;
    ck_assert_int_eq(dp_metrics_init(&m, s.n_engines), 0);
    struct dp_inv iv;
    dp_inv_init(&iv, &w, dp_kv_bytes_per_token(&sc.model));
    /* 640 tokens = 10 blocks of 64, all cached: nothing new to write back */
    struct dp_req_rec r = rec(0, 0, 0);
    r.pe = 0;
    r.de = 1;
    r.input_tokens = 640;
    r.output_tokens = 0;
    r.cached_tokens = 640;   /* claims 10 blocks read on the PE path */
    dp_metrics_add(&m, &r);
    ck_assert_int_ne(dp_inv_bytes(&iv, &s, &w, &m), 0);
    ck_assert_msg(strstr(iv.first, "engine 0: storage NIC (read) carried 0 B"), "%s", iv.first);
    dp_inv_free(&iv);
    dp_metrics_free(&m);
    dp_workload_free(&w);
    dp_sim_free(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("invariants");
    TCase *tc = tcase_create("runs");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, every_policy_small);
    tcase_add_test(tc, moe_collectives_and_no_isolation);
    tcase_add_test(tc, quickstart_small);
    tcase_add_test(tc, traces_open_and_closed_loop);
    tcase_add_test(tc, sole_occupant_allowed);
    tcase_add_test(tc, cut_by_max_time);
    tcase_add_test(tc, interrupt_flag);
    suite_add_tcase(s, tc);
    TCase *neg = tcase_create("planted");
    tcase_add_test(neg, catches_link_over_bandwidth);
    tcase_add_test(neg, catches_time_going_back);
    tcase_add_test(neg, catches_memory_over_capacity);
    tcase_add_test(neg, catches_request_twice_or_missing);
    tcase_add_test(neg, catches_bytes_not_conserved);
    suite_add_tcase(s, neg);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
