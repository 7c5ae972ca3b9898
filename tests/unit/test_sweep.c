/* Capacity planning (dualpath sweep): the goal searches against answers
 * worked out by hand over fake evaluations, the sweep: parser's values and
 * its errors (file:line and key), the journal's round trip, and one real
 * point. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sweep_plan.h"
#include "sim/sweep_pool.h"
#include "sim/sweep_spec.h"
#include "sim/sweep_store.h"

/* ---- fake evaluations ---------------------------------------------------- */

/* max_rate: configuration c serves up to limit[c]; the probes are recorded. */
struct fake_rate {
    const double *limit;
    double probes[8][64];
    int n[8];
};

static int eval_rate(void *ctx, const struct dp_probe *pr, int *pass)
{
    struct fake_rate *f = ctx;
    f->probes[pr->cfg][f->n[pr->cfg]++] = pr->rate;
    *pass = pr->rate <= f->limit[pr->cfg];
    return 0;
}

static double search(double limit, double lo, double hi, double tol, int integer, int *capped,
                     uint32_t *probes)
{
    struct dp_rate_search s;
    dp_rate_search_init(&s, lo, hi, tol, integer);
    double r;
    while (dp_rate_search_next(&s, &r))
        dp_rate_search_feed(&s, r, r <= limit);
    *probes = s.probes;
    return dp_rate_search_answer(&s, capped);
}

/* By hand, limit 7.3 from 1 to 64 at 5%: 1 2 4 pass, 8 fails; bisect: 6 and
 * 7 pass, 7.5 fails, 7.25 passes; (7.5 - 7.25) / 7.25 = 3.4% <= 5%: 7.25. */
START_TEST(rate_search_by_hand)
{
    static const double limit[1] = { 7.3 };
    struct fake_rate f = { limit, { { 0 } }, { 0 } };
    struct dp_sweep_goal g = { .kind = DP_GOAL_MAX_RATE, .rate_lo = 1, .rate_hi = 64, .tolerance = 0.05 };
    struct dp_plan p;
    uint32_t gpus[1] = { 16 };
    ck_assert_int_eq(dp_plan_init(&p, &g, 1, gpus), 0);
    ck_assert_int_eq(dp_plan_run(&p, eval_rate, &f), 0);
    static const double want[] = { 1, 2, 4, 8, 6, 7, 7.5, 7.25 };
    ck_assert_int_eq(f.n[0], 8);
    for (int i = 0; i < 8; i++)
        ck_assert_double_eq(f.probes[0][i], want[i]);
    int capped = -1;
    ck_assert_double_eq(dp_rate_search_answer(&p.rs[0], &capped), 7.25);
    ck_assert_int_eq(capped, 0);
    dp_plan_free(&p);
}
END_TEST

START_TEST(rate_search_edges)
{
    int capped;
    uint32_t n;
    /* not even lo: answer 0 after one probe */
    ck_assert_double_eq(search(0.3, 1, 64, 0.05, 0, &capped, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(capped, 0);
    /* hi passes: capped at hi; 1 2 4 ... 64 is 7 probes */
    ck_assert_double_eq(search(1000, 1, 64, 0.05, 0, &capped, &n), 64);
    ck_assert_int_eq(capped, 1);
    ck_assert_uint_eq(n, 7);
    /* whole numbers (agents): exactly the limit */
    ck_assert_double_eq(search(37, 1, 1000, 0.01, 1, &capped, &n), 37);
    /* a limit between two doublings, any tolerance: within it, below the limit */
    for (double lim = 0.7; lim < 50; lim *= 1.37) {
        double a = search(lim, 0.5, 64, 0.02, 0, &capped, &n);
        ck_assert_msg(a <= lim && a >= lim / 1.02 - 1e-9, "limit %g gave %g", lim, a);
    }
}
END_TEST

/* Several configurations searched at once give each its own answer. */
START_TEST(plan_max_rate_per_config)
{
    static const double limit[3] = { 3.3, 12.0, 40.1 };
    struct fake_rate f = { limit, { { 0 } }, { 0 } };
    struct dp_sweep_goal g = { .kind = DP_GOAL_MAX_RATE, .rate_lo = 0.5, .rate_hi = 64, .tolerance = 0.05 };
    uint32_t gpus[3] = { 16, 24, 32 };
    struct dp_plan p;
    ck_assert_int_eq(dp_plan_init(&p, &g, 3, gpus), 0);
    /* with two points out at once, as with -j 2 */
    struct dp_probe a, b;
    ck_assert_int_eq(dp_plan_next(&p, &a), 1);
    ck_assert_int_eq(dp_plan_next(&p, &b), 1);
    ck_assert(a.cfg != b.cfg);
    dp_plan_feed(&p, &b, b.rate <= limit[b.cfg]);
    dp_plan_feed(&p, &a, a.rate <= limit[a.cfg]);
    f.n[a.cfg] = f.n[b.cfg] = 1;
    ck_assert_int_eq(dp_plan_run(&p, eval_rate, &f), 0);
    for (int c = 0; c < 3; c++) {
        double ans = dp_rate_search_answer(&p.rs[c], NULL);
        ck_assert_msg(ans <= limit[c] && ans >= limit[c] / 1.05, "config %d: %g for %g", c, ans, limit[c]);
    }
    struct dp_probe pr;
    ck_assert_int_eq(dp_plan_next(&p, &pr), -1);
    dp_plan_free(&p);
}
END_TEST

/* min_gpus: configurations by GPUs; every one at the answer's size, none
 * above. By hand: 16 GPUs (1, 3) fail, 24 (2 fails, 4 passes): the answer is
 * 24; 32 and 48 are never simulated. */
static const uint32_t mg_gpus[6] = { 32, 16, 24, 16, 24, 48 };
static const int mg_pass[6] = { 1, 0, 0, 0, 1, 1 };
struct fake_cfgs {
    uint64_t seen[8];
    int n;
};

static int eval_cfg(void *ctx, const struct dp_probe *pr, int *pass)
{
    struct fake_cfgs *f = ctx;
    f->seen[f->n++] = pr->cfg;
    *pass = mg_pass[pr->cfg];
    return 0;
}

START_TEST(plan_min_gpus_by_hand)
{
    struct dp_sweep_goal g = { .kind = DP_GOAL_MIN_GPUS, .slo_attainment = 0.99 };
    struct dp_plan p;
    struct fake_cfgs f = { { 0 }, 0 };
    ck_assert_int_eq(dp_plan_init(&p, &g, 6, mg_gpus), 0);
    ck_assert_int_eq(dp_plan_run(&p, eval_cfg, &f), 0);
    ck_assert_int_eq(f.n, 4);
    static const uint64_t want[4] = { 1, 3, 2, 4 };
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(f.seen[i], want[i]);
    ck_assert_uint_eq(p.best_gpus, 24);
    ck_assert(dp_plan_keeps(&p, 4) && dp_plan_keeps(&p, 1));
    ck_assert(!dp_plan_keeps(&p, 0) && !dp_plan_keeps(&p, 5));
    dp_plan_free(&p);
}
END_TEST

/* Results out of order (parallel workers) do not change the answer. */
START_TEST(plan_min_gpus_out_of_order)
{
    struct dp_sweep_goal g = { .kind = DP_GOAL_MIN_GPUS, .slo_attainment = 0.99 };
    struct dp_plan p;
    ck_assert_int_eq(dp_plan_init(&p, &g, 6, mg_gpus), 0);
    struct dp_probe pr[6];
    int n = 0;
    while (n < 6 && dp_plan_next(&p, &pr[n]) == 1)
        n++;
    ck_assert_int_eq(n, 6);   /* nothing known yet: all may run */
    for (int i = n - 1; i >= 0; i--)
        dp_plan_feed(&p, &pr[i], mg_pass[pr[i].cfg]);
    ck_assert_uint_eq(p.best_gpus, 24);
    ck_assert(!dp_plan_keeps(&p, 0) && !dp_plan_keeps(&p, 5));
    ck_assert_int_eq(dp_plan_next(&p, &pr[0]), -1);
    dp_plan_free(&p);
}
END_TEST

START_TEST(plan_min_gpus_none)
{
    static const uint32_t gpus[2] = { 16, 24 };
    struct dp_sweep_goal g = { .kind = DP_GOAL_MIN_GPUS };
    struct dp_plan p;
    ck_assert_int_eq(dp_plan_init(&p, &g, 2, gpus), 0);
    struct dp_probe pr;
    int k = 0;
    while (dp_plan_next(&p, &pr) == 1) {
        dp_plan_feed(&p, &pr, 0);
        k++;
    }
    ck_assert_int_eq(k, 2);
    ck_assert_uint_eq(p.best_gpus, UINT32_MAX);
    ck_assert(dp_plan_keeps(&p, 0) && dp_plan_keeps(&p, 1));
    dp_plan_free(&p);
}
END_TEST

/* ---- the sweep: section -------------------------------------------------- */

static const char base_yaml[] =
    "name: t\n"
    "seed: 7\n"
    "model: ds27b\n"
    "hardware: hopper\n"
    "cluster: {prefill_engines: 1, decode_engines: 1, prefill_gpus: 8, decode_gpus: 8}\n"
    "workload:\n"
    "  synthetic: {agents: 6, rate: 1, duration_s: 2, turns_mean: 3, turns_max: 6,\n"
    "              prompt_tokens_mean: 2000, append_tokens_mean: 200, output_tokens_mean: 20}\n";

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/dp_test_sweep.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_scn(char *path, size_t len, const char *sweep)
{
    snprintf(path, len, "%s/s.yaml", dir);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "%s%s", base_yaml, sweep);
    fclose(fp);
}

/* The line of the first occurrence of needle in the file we wrote. */
static int line_of(const char *sweep, const char *needle)
{
    char all[4096];
    snprintf(all, sizeof all, "%s%s", base_yaml, sweep);
    const char *at = strstr(all, needle);
    ck_assert_ptr_nonnull(at);
    int line = 1;
    for (const char *p = all; p < at; p++)
        line += *p == '\n';
    return line;
}

static int load(const char *sweep, struct dp_scenario *sc, struct dp_sweep_spec *sp, struct dp_err *err)
{
    char path[400];
    write_scn(path, sizeof path, sweep);
    ck_assert_msg(dp_scenario_load(sc, path, err) == 0, "%s", err->msg);
    return dp_sweep_spec_load(sp, sc, err);
}

START_TEST(spec_values)
{
    make_dir();
    const char *sw = "sweep:\n"
                     "  vary:\n"
                     "    cluster.decode_engines: {from: 1, to: 3, step: 1}\n"
                     "    hardware.snic_bw: {from: 12.5e9, to: 50e9, factor: 2}\n"
                     "    policy.name: [basic, dualpath]\n"
                     "  together:\n"
                     "    cluster.prefill_gpus: [8, 16]\n"
                     "    cluster.decode_gpus: [8, 16]\n";
    struct dp_scenario sc;
    struct dp_sweep_spec sp;
    struct dp_err err = { "" };
    ck_assert_msg(load(sw, &sc, &sp, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(sp.n_keys, 5);
    ck_assert_uint_eq(sp.n_axes, 4);
    ck_assert_uint_eq(sp.n_configs, 3 * 3 * 2 * 2);
    ck_assert_str_eq(sp.keys[1].values[2], "5e+10");
    ck_assert_int_eq(sp.goal.kind, DP_GOAL_GRID);
    ck_assert_double_eq(sp.goal.slo_attainment, 0.99);
    /* first key slowest; keys varied together share their index */
    ck_assert_uint_eq(dp_sweep_value_index(&sp, 35, 0), 2);
    ck_assert_uint_eq(dp_sweep_value_index(&sp, 1, 3), 1);
    ck_assert_uint_eq(dp_sweep_value_index(&sp, 1, 4), 1);
    ck_assert_uint_eq(dp_sweep_value_index(&sp, 2, 2), 1);
    char text[DP_SWEEP_TEXT];
    ck_assert_int_eq(dp_sweep_point_text(&sp, &sc, 35, NULL, text, sizeof text, &err), 0);
    ck_assert_str_eq(text, "cluster.decode_engines=3\nhardware.snic_bw=5e+10\npolicy.name=dualpath\n"
                           "cluster.prefill_gpus=16\ncluster.decode_gpus=16\n");
    struct dp_scenario pt = sc;
    ck_assert_msg(dp_sweep_apply(&pt, text, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(dp_sweep_gpus(&pt), 16 + 3 * 16);
    ck_assert(dp_sweep_hash(&pt) != dp_sweep_hash(&sc));
    struct dp_scenario again = sc;
    dp_sweep_apply(&again, text, &err);
    ck_assert(dp_sweep_hash(&pt) == dp_sweep_hash(&again));
    dp_sweep_spec_free(&sp);
    remove_dir();
}
END_TEST

START_TEST(spec_planning_keys)
{
    make_dir();
    const char *sw = "sweep:\n"
                     "  vary:\n"
                     "    cluster.engines: [4, 8]\n"
                     "    cluster.pd_ratio: ['1:3', '1:1', '3:1']\n"
                     "  goal: {kind: min_gpus, slo_attainment: 0.9}\n";
    struct dp_scenario sc;
    struct dp_sweep_spec sp;
    struct dp_err err = { "" };
    ck_assert_msg(load(sw, &sc, &sp, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(sp.n_configs, 6);
    ck_assert_int_eq(sp.goal.kind, DP_GOAL_MIN_GPUS);
    char text[DP_SWEEP_TEXT];
    ck_assert_int_eq(dp_sweep_point_text(&sp, &sc, 0, NULL, text, sizeof text, &err), 0);
    ck_assert_str_eq(text, "cluster.prefill_engines=1\ncluster.decode_engines=3\n");
    ck_assert_int_eq(dp_sweep_point_text(&sp, &sc, 5, NULL, text, sizeof text, &err), 0);
    ck_assert_str_eq(text, "cluster.prefill_engines=6\ncluster.decode_engines=2\n");
    dp_sweep_spec_free(&sp);
    remove_dir();
}
END_TEST

START_TEST(spec_max_rate_goal)
{
    make_dir();
    const char *sw = "sweep:\n"
                     "  vary:\n"
                     "    policy.name: [basic, dualpath]\n"
                     "  goal:\n"
                     "    kind: max_rate\n"
                     "    rate_key: workload.synthetic.agents\n"
                     "    rate_lo: 1\n"
                     "    rate_hi: 100\n"
                     "    tolerance: 0.1\n";
    struct dp_scenario sc;
    struct dp_sweep_spec sp;
    struct dp_err err = { "" };
    ck_assert_msg(load(sw, &sc, &sp, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(sp.goal.kind, DP_GOAL_MAX_RATE);
    ck_assert_int_eq(sp.goal.rate_integer, 1);
    char text[DP_SWEEP_TEXT];
    ck_assert_int_eq(dp_sweep_point_text(&sp, &sc, 1, "12", text, sizeof text, &err), 0);
    ck_assert_str_eq(text, "policy.name=dualpath\nworkload.synthetic.agents=12\n");
    dp_sweep_spec_free(&sp);
    remove_dir();
}
END_TEST

/* Every mistake: one message naming the file, the line and the key. */
static void expect_bad(const char *sweep, const char *at_token, const char *needle)
{
    struct dp_scenario sc;
    struct dp_sweep_spec sp;
    struct dp_err err = { "" };
    ck_assert_msg(load(sweep, &sc, &sp, &err) != 0, "accepted: %s", sweep);
    char where[400];
    snprintf(where, sizeof where, "%s/s.yaml:%d:", dir, line_of(sweep, at_token));
    ck_assert_msg(strstr(err.msg, where), "'%s' lacks '%s'", err.msg, where);
    ck_assert_msg(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
}

START_TEST(spec_errors)
{
    make_dir();
    expect_bad("sweep:\n  vary: {policy.name: [basic]}\n  varry: {}\n", "varry", "'sweep.varry'");
    expect_bad("sweep:\n  vary:\n    cluster.prefil_engines: [1, 2]\n", "cluster.prefil",
               "did you mean 'cluster.prefill_engines'");
    expect_bad("sweep:\n  vary:\n    cluster.prefill_engines:\n      - 1\n      - two\n", "two",
               "cluster.prefill_engines");
    expect_bad("sweep:\n  vary:\n    hardware.snic_bw: {from: 1e9, to: 4e9}\n", "{from", "step");
    expect_bad("sweep:\n  vary:\n    hardware.snic_bw: {from: 1e9, to: 4e9, stride: 1}\n", "stride",
               "hardware.snic_bw");
    expect_bad("sweep:\n  vary:\n    policy.name: []\n", "[]", "empty");
    expect_bad("sweep:\n  together:\n    cluster.prefill_engines: [1, 2]\n    cluster.decode_engines: [1]\n",
               "cluster.decode", "one length");
    expect_bad("sweep:\n  vary: {policy.name: [basic]}\n  goal: {kind: fastest}\n", "goal", "grid, max_rate, min_gpus");
    expect_bad("sweep:\n  vary: {policy.name: [basic]}\n  goal:\n    kind: max_rate\n    rate_low: 1\n",
               "rate_low", "'sweep.goal.rate_low'");
    expect_bad("sweep:\n  vary:\n    workload.synthetic.rate: [1, 2]\n  goal: {kind: max_rate}\n",
               "workload.synthetic.rate: [", "cannot also be varied");
    expect_bad("sweep:\n  vary: {policy.name: [basic]}\n  goal:\n    kind: max_rate\n    rate_lo: 5\n    rate_hi: 2\n",
               "rate_lo", "rate_lo < rate_hi");
    expect_bad("sweep:\n  vary: {policy.name: [basic]}\n  goal:\n    kind: min_gpus\n    rate_hi: 2\n",
               "rate_hi", "max_rate");
    expect_bad("sweep:\n  vary: {policy.name: [basic]}\n  goal:\n    slo_attainment: 1.5\n",
               "slo_attainment", "slo_attainment");
    expect_bad("sweep:\n  vary:\n    model: [ds27b, nosuchmodel]\n", "nosuchmodel", "'model'");
    expect_bad("sweep:\n  vary:\n    cluster.pd_ratio: ['1:0']\n", "cluster.pd", "ratio");
    expect_bad("sweep:\n  vary:\n    policy.name: [basic]\n    policy.name: [dualpath]\n", "policy.name: [d",
               "varied twice");
    expect_bad("sweep:\n  goal: {kind: min_gpus}\n", "sweep:", "nothing to vary");
    remove_dir();
}
END_TEST

START_TEST(spec_missing)
{
    make_dir();
    struct dp_scenario sc;
    struct dp_sweep_spec sp;
    struct dp_err err = { "" };
    ck_assert_int_ne(load("", &sc, &sp, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "no sweep: section"));
    remove_dir();
}
END_TEST

/* ---- journal ----------------------------------------------------------- */

struct seen {
    uint64_t h[4];
    struct dp_sweep_res r[4];
    int n;
};

static int collect(void *ctx, uint64_t h, const struct dp_sweep_res *r)
{
    struct seen *s = ctx;
    ck_assert_int_lt(s->n, 4);
    s->h[s->n] = h;
    s->r[s->n++] = *r;
    return 0;
}

START_TEST(journal_round_trip)
{
    make_dir();
    char prefix[300], path[400];
    snprintf(prefix, sizeof prefix, "%s/j", dir);
    struct dp_journal j, j2;
    struct dp_err err = { "" };
    ck_assert_int_eq(dp_journal_open(&j, prefix, 0, 0, NULL, NULL, &err), 0);
    /* a second sweep on the same prefix is refused while this one runs */
    ck_assert_int_ne(dp_journal_open(&j2, prefix, 1, 0, collect, NULL, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "another sweep"));
    struct dp_sweep_res a = { 0 }, b = { 0 };
    a.s.requests = 123;
    a.s.slo_attainment = 0.1 + 0.2;   /* not a short decimal: must come back exactly */
    a.s.ttft_p[2] = 1.0 / 3;
    b.status = 1;
    snprintf(b.err, sizeof b.err, "stalled\twith a tab");
    ck_assert_int_eq(dp_journal_append(&j, 0xfeedfacecafebeefull, &a, "policy.name=basic", &err), 0);
    ck_assert_int_eq(dp_journal_append(&j, 7, &b, "x=1", &err), 0);
    dp_journal_close(&j);
    /* a kill in the middle of a line leaves it without its newline */
    snprintf(path, sizeof path, "%s.journal", prefix);
    FILE *fp = fopen(path, "a");
    fputs("P\t00000000000000aa\t0\t1\t2", fp);
    fclose(fp);
    ck_assert_int_ne(dp_journal_open(&j, prefix, 0, 0, NULL, NULL, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "--resume"));
    struct seen s = { .n = 0 };
    ck_assert_msg(dp_journal_open(&j, prefix, 1, 0, collect, &s, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(s.n, 2);
    ck_assert_uint_eq(s.h[0], 0xfeedfacecafebeefull);
    ck_assert_uint_eq(s.r[0].s.requests, 123);
    ck_assert(s.r[0].s.slo_attainment == 0.1 + 0.2);
    ck_assert(s.r[0].s.ttft_p[2] == 1.0 / 3);
    ck_assert_int_eq(s.r[1].status, 1);
    ck_assert_str_eq(s.r[1].err, "stalled with a tab");
    /* the cut line is gone: a point appended now is read back whole */
    ck_assert_int_eq(dp_journal_append(&j, 9, &a, "y=2", &err), 0);
    dp_journal_close(&j);
    s.n = 0;
    ck_assert_int_eq(dp_journal_open(&j, prefix, 1, 0, collect, &s, &err), 0);
    ck_assert_int_eq(s.n, 3);
    ck_assert_uint_eq(s.h[2], 9);
    dp_journal_close(&j);
    /* --restart empties it */
    ck_assert_int_eq(dp_journal_open(&j, prefix, 0, 1, NULL, NULL, &err), 0);
    dp_journal_close(&j);
    s.n = 0;
    ck_assert_int_eq(dp_journal_open(&j, prefix, 1, 0, collect, &s, &err), 0);
    ck_assert_int_eq(s.n, 0);
    dp_journal_close(&j);
    remove_dir();
}
END_TEST

/* ---- one real point ---------------------------------------------------- */

/* A worker evaluates many points in one process: a point's result must not
 * depend on what it simulated before. */
START_TEST(eval_is_independent_of_history)
{
    struct dp_scenario sc;
    struct dp_err err = { "" };
    ck_assert(dp_scenario_load(&sc, DP_TEST_DATA "/small.yaml", &err) == 0);
    struct dp_sweep_res first, other, again;
    dp_sweep_eval(&sc, "policy.name=dualpath\n", &first);
    ck_assert_msg(first.status == 0, "%s", first.err);
    ck_assert_uint_gt(first.s.requests, 10);
    dp_sweep_eval(&sc, "cluster.decode_engines=2\nworkload.synthetic.agents=9\n", &other);
    ck_assert_int_eq(other.status, 0);
    dp_sweep_eval(&sc, "policy.name=dualpath\n", &again);
    ck_assert(memcmp(&first.s, &again.s, sizeof first.s) == 0);
    /* a point that cannot run comes back failed, with the reason */
    dp_sweep_eval(&sc, "workload.synthetic.agents=0\n", &other);
    ck_assert_int_eq(other.status, 1);
    ck_assert_ptr_nonnull(strstr(other.err, "workload.synthetic.agents"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, rate_search_by_hand);
    tcase_add_test(tc, rate_search_edges);
    tcase_add_test(tc, plan_max_rate_per_config);
    tcase_add_test(tc, plan_min_gpus_by_hand);
    tcase_add_test(tc, plan_min_gpus_out_of_order);
    tcase_add_test(tc, plan_min_gpus_none);
    suite_add_tcase(s, tc);
    tc = tcase_create("spec");
    tcase_add_test(tc, spec_values);
    tcase_add_test(tc, spec_planning_keys);
    tcase_add_test(tc, spec_max_rate_goal);
    tcase_add_test(tc, spec_errors);
    tcase_add_test(tc, spec_missing);
    suite_add_tcase(s, tc);
    tc = tcase_create("store");
    tcase_add_test(tc, journal_round_trip);
    tcase_add_test(tc, eval_is_independent_of_history);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
