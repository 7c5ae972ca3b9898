/* The global scheduler on hand-built cluster states, the compute quota,
 * and lane isolation of collectives against KV traffic. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"
#include "fake_platform.h"
#include "sim/run.h"

static struct dp_scenario sc;
static struct dp_engine pes[2], des[2];
static struct dp_cluster_view view;
static struct dp_request req;

static void setup(void)
{
    struct dp_err err = { "" };
    ck_assert_msg(dp_scenario_load(&sc, DP_TEST_DATA "/small.yaml", &err) == 0, "%s", err.msg);
    memset(pes, 0, sizeof pes);
    memset(des, 0, sizeof des);
    for (int i = 0; i < 2; i++) {
        pes[i].id = i;
        des[i].id = 2 + i;
        des[i].role = DP_ROLE_DECODE;
        pes[i].hw.snic_bw = des[i].hw.snic_bw = 50e9;
    }
    view = (struct dp_cluster_view){ &sc, pes, 2, des, 2, 1e5, 0, 0 };
    memset(&req, 0, sizeof req);
    req.block_tokens = 64;
    req.kv_tok = 1e5;              /* 6.4 MB a block */
    req.cached_blocks = 500;       /* 3.2 GB to read */
    req.input_tokens = 500 * 64 + 300;
    req.new_tokens = 300;
}

static struct dp_route route(const char *policy)
{
    struct dp_route r = { -1, -1, 0 };
    const struct dp_policy_ops *p = dp_policy_find(policy);
    ck_assert_ptr_nonnull(p);
    void *st = NULL;
    struct dp_err err;
    if (p->init)
        ck_assert_int_eq(p->init(&view, &st, &err), 0);
    p->route(st, &view, &req, &r);
    if (p->fini)
        p->fini(st);
    return r;
}

START_TEST(idle_cluster_keeps_short_path)
{
    struct dp_route r = route("dualpath");
    ck_assert_uint_eq(r.de_blocks, 0);
}
END_TEST

START_TEST(saturated_pe_sends_reads_to_de)
{
    pes[0].read_q_bytes = pes[1].read_q_bytes = 20e9;   /* 0.4 s of backlog each */
    struct dp_route r = route("dualpath");
    /* the PE backlog (0.4 s) exceeds the whole read on the DE (0.064 s):
     * everything goes to the DE */
    ck_assert_uint_eq(r.de_blocks, req.cached_blocks);
}
END_TEST

START_TEST(partial_backlog_splits)
{
    pes[0].read_q_bytes = pes[1].read_q_bytes = 1e9;
    struct dp_route r = route("dualpath");
    ck_assert_uint_gt(r.de_blocks, 0);
    ck_assert_uint_lt(r.de_blocks, req.cached_blocks);
    /* (1e9 + (500 - x) 6.4e6) = x 6.4e6  ->  x = 328.1 -> 328 */
    ck_assert_uint_eq(r.de_blocks, 328);
    /* so both sides finish together, to within one block */
    double b = req.block_tokens * req.kv_tok;
    double t_pe = (pes[r.pe].read_q_bytes + (req.cached_blocks - r.de_blocks) * b) / 50e9;
    double t_de = (des[r.de].read_q_bytes + r.de_blocks * b) / 50e9;
    ck_assert_msg(fabs(t_pe - t_de) <= b / 50e9 + 1e-12, "pe %.6f de %.6f", t_pe, t_de);
}
END_TEST

START_TEST(no_split_takes_whole_read)
{
    sc.policy.split = 0;
    pes[0].read_q_bytes = pes[1].read_q_bytes = 1e9;
    struct dp_route r = route("dualpath");
    ck_assert_uint_eq(r.de_blocks, req.cached_blocks);
}
END_TEST

START_TEST(de_with_shorter_queue_chosen)
{
    pes[0].read_q_bytes = pes[1].read_q_bytes = 20e9;
    des[0].read_q_bytes = 5e9;
    struct dp_route r = route("dualpath");
    ck_assert_int_eq(r.de, 1);
    /* a higher decode load does not matter while it has room to admit */
    des[1].n_running = 50;
    ck_assert_int_eq(route("dualpath").de, 1);
    /* a full running set does: the request would wait for admission */
    des[1].n_running = sc.sched.decode_max_batch;
    ck_assert_int_eq(route("dualpath").de, 0);
    /* and when every DE is full, the least loaded ones compete on storage */
    des[0].n_running = sc.sched.decode_max_batch + 20;
    ck_assert_int_eq(route("dualpath").de, 1);
}
END_TEST

START_TEST(pe_with_fewer_pending_tokens_chosen)
{
    pes[0].pending_tokens = 5000;
    pes[1].pending_tokens = 100;
    ck_assert_int_eq(route("dualpath").pe, 1);
    ck_assert_int_eq(route("basic").pe, 1);
}
END_TEST

START_TEST(basic_never_uses_de_path)
{
    pes[0].read_q_bytes = pes[1].read_q_bytes = 100e9;
    ck_assert_uint_eq(route("basic").de_blocks, 0);
    ck_assert_uint_eq(route("de_only").de_blocks, req.cached_blocks);
}
END_TEST

/* ---- compute quota: every multi-request batch stays within the quota --- */

struct quota_watch {
    double quota_ms, worst_ms;
    uint32_t multi;
};

static void watch_batch(struct fake *f, const struct dp_compute *k)
{
    struct quota_watch *q = f->user;
    if (k->kind != DP_C_PREFILL_LAYER || k->layer != 0 || k->n_reqs < 2)
        return;
    struct dp_engine_hw hw;
    dp_engine_hw_from(&hw, &sc.hw, sc.cluster.prefill_gpus);
    double ms = (double)dp_prefill_layer_ns(&sc.model, &hw, &k->shape) * sc.model.n_layers / 1e6;
    q->multi++;
    if (ms > q->worst_ms)
        q->worst_ms = ms;
}

START_TEST(compute_quota_bounds_batch_time)
{
    struct dp_workload w;
    struct dp_err err = { "" };
    sc.workload.synthetic.agents = 60;
    sc.sched.prefill_batch_tokens = 1 << 30;   /* only the time quota binds */
    sc.sched.prefill_batch_ms = 40;
    ck_assert(dp_workload_build(&sc, NULL, &w, &err) == 0);
    struct fake f;
    struct quota_watch q = { 40, 0, 0 };
    memset(&f, 0, sizeof f);
    f.seen_compute = watch_batch;
    f.user = &q;
    fake_run(&f, &sc, &w);
    ck_assert_uint_gt(q.multi, 5);                 /* batching happened */
    ck_assert_msg(q.worst_ms <= q.quota_ms, "a batch of %.1f ms exceeds the %.0f ms quota",
                  q.worst_ms, q.quota_ms);
    dp_core_destroy(f.core);
    free(f.ev);
    dp_workload_free(&w);
}
END_TEST

/* ---- lanes: collectives vs KV traffic on the compute network ---------- */

static double stretch(int isolation)
{
    struct dp_scenario s;
    struct dp_err err = { "" };
    struct dp_workload w;
    ck_assert(dp_scenario_load(&s, DP_TEST_DATA "/small_moe.yaml", &err) == 0);
    s.traffic.isolation = isolation;
    ck_assert_msg(dp_workload_build(&s, NULL, &w, &err) == 0, "%s", err.msg);
    struct dp_sim_result res;
    ck_assert_msg(dp_sim_run(&s, &w, NULL, &res, &err) == 0, "%s", err.msg);
    struct dp_run_info info;
    dp_sim_result_info(&res, &s, "test", &info);
    ck_assert_uint_gt(res.metrics.a2a_n, 100);
    double worst = info.summary.a2a_stretch_max;
    dp_sim_result_free(&res);
    dp_workload_free(&w);
    return worst;
}

START_TEST(isolation_protects_collectives)
{
    double on = stretch(1), off = stretch(0);
    /* alone in the top lane, a collective takes exactly bytes / bandwidth
     * (completion rounds up to a whole ns) */
    ck_assert_msg(on < 1.0 + 1e-3, "isolation on: worst stretch %.6f", on);
    ck_assert_msg(off > 1.5, "isolation off: worst stretch only %.3f", off);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("route");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, idle_cluster_keeps_short_path);
    tcase_add_test(tc, saturated_pe_sends_reads_to_de);
    tcase_add_test(tc, partial_backlog_splits);
    tcase_add_test(tc, no_split_takes_whole_read);
    tcase_add_test(tc, de_with_shorter_queue_chosen);
    tcase_add_test(tc, pe_with_fewer_pending_tokens_chosen);
    tcase_add_test(tc, basic_never_uses_de_path);
    tcase_add_test(tc, compute_quota_bounds_batch_time);
    tcase_add_test(tc, isolation_protects_collectives);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
