/* Core behaviour, on the simulator and on a scripted fake platform:
 * closed-loop agents, conservation of requests and bytes, determinism,
 * and the seam itself (the same core driven by a platform of 80 lines). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/metrics.h"
#include "core/report.h"
#include "sim/run.h"
#include "traces/trace.h"

static struct dp_scenario sc;
static struct dp_workload wl;

static void setup(void)
{
    struct dp_err err = { "" };
    ck_assert_msg(dp_scenario_load(&sc, DP_TEST_DATA "/small.yaml", &err) == 0, "%s", err.msg);
    ck_assert_msg(dp_workload_build(&sc, NULL, &wl, &err) == 0, "%s", err.msg);
}

static void teardown(void) { dp_workload_free(&wl); }

static void run_sim(const struct dp_scenario *s, struct dp_sim_result *res)
{
    struct dp_err err = { "" };
    ck_assert_msg(dp_sim_run(s, &wl, NULL, res, &err) == 0, "%s", err.msg);
}

/* Every turn of every session completes exactly once. */
START_TEST(every_request_once)
{
    struct dp_sim_result res;
    run_sim(&sc, &res);
    size_t total = dp_workload_total_turns(&wl);
    ck_assert_uint_eq(res.metrics.n_recs, total);
    char *seen = calloc(total, 1);
    for (size_t i = 0; i < res.metrics.n_recs; i++) {
        uint64_t id = res.metrics.recs[i].id;
        ck_assert_uint_lt(id, total);
        ck_assert_int_eq(seen[id], 0);
        seen[id] = 1;
        ck_assert_uint_eq(res.metrics.recs[i].failed, 0);
    }
    free(seen);
    dp_sim_result_free(&res);
}
END_TEST

/* Turn k+1 of a session is issued only after turn k's last token plus the
 * think time of turn k+1. */
START_TEST(closed_loop)
{
    struct dp_sim_result res;
    run_sim(&sc, &res);
    const struct dp_metrics *m = &res.metrics;
    int checked = 0;
    for (size_t i = 0; i < m->n_recs; i++) {
        const struct dp_req_rec *a = &m->recs[i];
        for (size_t j = 0; j < m->n_recs; j++) {
            const struct dp_req_rec *b = &m->recs[j];
            if (b->session != a->session || b->turn != a->turn + 1)
                continue;
            double think = wl.sessions[a->session].turns[b->turn].think_ns / 1e9;
            ck_assert_msg(b->t_issue + 1e-9 >= a->t_done + think,
                          "session %llu turn %u issued at %.6f before %.6f + %.6f",
                          (unsigned long long)a->session, b->turn, b->t_issue, a->t_done, think);
            /* and its context is the previous turn's whole context plus the append */
            ck_assert_uint_eq(b->input_tokens, a->input_tokens + a->output_tokens +
                                                   wl.sessions[a->session].turns[b->turn].append_tokens);
            checked++;
        }
    }
    ck_assert_int_gt(checked, 10);
    dp_sim_result_free(&res);
}
END_TEST

/* Bytes read from storage over the storage NICs equal the KV the requests
 * needed: cached tokens x KV bytes per token, for each policy. */
static void check_bytes(const char *policy)
{
    struct dp_scenario s = sc;
    snprintf(s.policy.name, sizeof s.policy.name, "%s", policy);
    struct dp_sim_result res;
    run_sim(&s, &res);
    double need = 0, kv_tok = dp_kv_bytes_per_token(&s.model), read = 0;
    for (size_t i = 0; i < res.metrics.n_recs; i++)
        need += res.metrics.recs[i].cached_tokens * kv_tok;
    for (uint32_t e = 0; e < res.metrics.n_engines; e++)
        read += res.metrics.bytes[DP_S_SNIC_RX][e];
    ck_assert_msg(need > 0, "the workload reuses nothing");
    /* bytes are whole per transfer: allow one byte of rounding per request */
    ck_assert_msg(fabs(read - need) <= res.metrics.n_recs * 2.0, "%s: read %.0f need %.0f", policy,
                  read, need);
    dp_sim_result_free(&res);
}

START_TEST(bytes_conserved_basic) { check_bytes("basic"); }
END_TEST
START_TEST(bytes_conserved_dualpath) { check_bytes("dualpath"); }
END_TEST

START_TEST(deterministic_h5)
{
    char a[] = "/tmp/dp_det_a_XXXXXX", b[] = "/tmp/dp_det_b_XXXXXX";
    close(mkstemp(a));
    close(mkstemp(b));
    for (int k = 0; k < 2; k++) {
        struct dp_sim_result res;
        struct dp_run_info info;
        struct dp_err err = { "" };
        run_sim(&sc, &res);
        dp_sim_result_info(&res, &sc, "test", &info);
        ck_assert_msg(dp_h5_write(k ? b : a, &info, &err) == 0, "%s", err.msg);
        dp_sim_result_free(&res);
    }
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    ck_assert(fa && fb);
    int ca, cb;
    long n = 0;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        ck_assert_msg(ca == cb, "results differ at byte %ld", n);
        n++;
    } while (ca != EOF);
    ck_assert_int_gt(n, 1000);
    fclose(fa);
    fclose(fb);
    unlink(a);
    unlink(b);
}
END_TEST

START_TEST(seed_changes_results)
{
    struct dp_scenario s2 = sc;
    struct dp_workload w2;
    struct dp_err err = { "" };
    s2.seed = sc.seed + 1;
    ck_assert(dp_workload_build(&s2, NULL, &w2, &err) == 0);
    int differ = w2.n_sessions != wl.n_sessions;
    for (size_t i = 0; !differ && i < w2.n_sessions; i++)
        differ = w2.sessions[i].n_turns != wl.sessions[i].n_turns ||
                 w2.sessions[i].turns[0].append_tokens != wl.sessions[i].turns[0].append_tokens;
    ck_assert(differ);
    dp_workload_free(&w2);
}
END_TEST

#include "fake_platform.h"

static void run_fake(const char *policy, struct fake *f)
{
    struct dp_scenario s = sc;
    snprintf(s.policy.name, sizeof s.policy.name, "%s", policy);
    memset(f, 0, sizeof *f);
    fake_run(f, &s, &wl);
}

START_TEST(seam_fake_platform)
{
    const char *policies[] = { "basic", "dualpath", "oracle" };
    for (int i = 0; i < 3; i++) {
        struct fake f;
        run_fake(policies[i], &f);
        ck_assert_uint_gt(f.moves, 0);
        ck_assert_uint_gt(f.computes, 0);
        if (i == 2)
            ck_assert_uint_eq(f.bytes_read, 0);   /* oracle reads nothing */
        else
            ck_assert_uint_gt(f.bytes_read, 0);
        dp_core_destroy(f.core);
        free(f.ev);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("sim");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_request_once);
    tcase_add_test(tc, closed_loop);
    tcase_add_test(tc, bytes_conserved_basic);
    tcase_add_test(tc, bytes_conserved_dualpath);
    tcase_add_test(tc, deterministic_h5);
    tcase_add_test(tc, seed_changes_results);
    tcase_add_test(tc, seam_fake_platform);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
