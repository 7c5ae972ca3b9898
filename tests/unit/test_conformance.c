/* Conformance to the seam (core/platform.h, "The rules"): every platform of
 * the build runs a set of scenarios behind a checking layer (seam_check.h)
 * and must keep every rule: each op it accepts completes exactly once, with
 * its status set, never from inside an op call; each request is released
 * once, after the last op that names it. Here: the simulator and the test
 * fake; the hardware shim in test_conformance_hw.c (where a GPU exists).
 *
 * Then the checks themselves are checked: fakes that break one rule each
 * (a double completion, a completion without status, a re-entrant
 * callback, a lost op, a table without a required op) are caught, with
 * the rule named. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "sim/run.h"
#include "sim/simplat.h"
#include "traces/trace.h"
#include "fake_platform.h"
#include "seam_check.h"

/* The scenarios every platform runs: policies (both read paths, Oracle's
 * no reads), a MoE model (collectives, with and without overlap), a
 * Mooncake trace (open loop, hash ids), and a run stopped early. */
struct variant {
    const char *file, *trace;
    const char *sets[3];
    int stops;          /* ends by run.max_time_s, not by itself */
};
static const struct variant variants[] = {
    { "small.yaml", NULL, { "policy.name=basic" }, 0 },
    { "small.yaml", NULL, { "policy.name=dualpath" }, 0 },
    { "small.yaml", NULL, { "policy.name=oracle" }, 0 },
    { "small.yaml", NULL, { "policy.name=de_only" }, 0 },
    { "small_moe.yaml", NULL, { "policy.name=dualpath", "traffic.overlap_a2a=true" }, 0 },
    { "small_moe.yaml", NULL, { "policy.name=basic", "traffic.overlap_a2a=false" }, 0 },
    { "small.yaml", "mooncake_head.jsonl", { "policy.name=dualpath" }, 0 },
    { "small.yaml", NULL, { "policy.name=dualpath", "run.max_time_s=1" }, 1 },
};
#define N_VARIANTS (sizeof variants / sizeof variants[0])

static void load(const struct variant *v, struct dp_scenario *sc, struct dp_workload *w)
{
    struct dp_err err = { "" };
    char path[512], trace[512];
    snprintf(path, sizeof path, "%s/%s", DP_TEST_DATA, v->file);
    ck_assert_msg(dp_scenario_load(sc, path, &err) == 0, "%s", err.msg);
    for (int i = 0; i < 3 && v->sets[i]; i++) {
        char key[64];
        const char *eq = strchr(v->sets[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - v->sets[i]), v->sets[i]);
        ck_assert_msg(dp_scenario_set(sc, key, eq + 1, "test", &err) == 0, "%s", err.msg);
    }
    ck_assert_msg(dp_scenario_validate(sc, &err) == 0, "%s", err.msg);
    if (v->trace)
        snprintf(trace, sizeof trace, "%s/%s", DP_TEST_DATA, v->trace);
    ck_assert_msg(dp_workload_build(sc, v->trace ? trace : NULL, w, &err) == 0, "%s", err.msg);
}

START_TEST(sim_keeps_the_rules)
{
    const struct variant *v = &variants[_i];
    struct dp_scenario sc;
    struct dp_workload w;
    struct dp_err err = { "" };
    load(v, &sc, &w);
    struct dp_sim s;
    struct seam_check k;
    struct dp_core *core = NULL;
    ck_assert_msg(dp_sim_init(&s, &sc, &err) == 0, "%s", err.msg);
    seam_check_init(&k, &dp_sim_ops, &s);
    ck_assert_msg(dp_core_create(&core, &sc, &w, &seam_check_ops, &k, &err) == 0, "%s", err.msg);
    s.core = core;
    ck_assert_int_eq(dp_core_start(core), 0);
    ck_assert_msg(dp_sim_drive(&s, core, &err) == 0, "%s", err.msg);
    seam_check_run(&k, core, !v->stops);
    struct dp_seam_stats st;
    dp_core_seam_stats(core, &st);
    if (!v->stops)
        ck_assert_uint_eq(st.requests, dp_workload_total_turns(&w));
    else   /* stopped with requests in flight: dp_core_destroy releases them */
        ck_assert_uint_lt(k.releases, st.requests);
    dp_core_destroy(core);
    seam_check_end(&k, st.requests);
    dp_sim_free(&s);
    dp_workload_free(&w);
}
END_TEST

START_TEST(fake_keeps_the_rules)
{
    const struct variant *v = &variants[_i];
    struct dp_scenario sc;
    struct dp_workload w;
    struct dp_err err = { "" };
    load(v, &sc, &w);
    struct fake f;
    struct seam_check k;
    memset(&f, 0, sizeof f);
    seam_check_init(&k, &fake_ops, &f);
    ck_assert_msg(dp_core_create(&f.core, &sc, &w, &seam_check_ops, &k, &err) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(dp_core_start(f.core), 0);
    while (!dp_core_done(f.core) && fake_step(&f))
        ;
    ck_assert(dp_core_done(f.core));
    seam_check_run(&k, f.core, !v->stops);
    struct dp_seam_stats st;
    dp_core_seam_stats(f.core, &st);
    if (v->stops)
        ck_assert_uint_lt(k.releases, st.requests);
    dp_core_destroy(f.core);
    seam_check_end(&k, st.requests);
    ck_assert_uint_eq(f.releases, st.requests);
    free(f.ev);
    dp_workload_free(&w);
}
END_TEST

/* ---- fakes that break one rule each ----------------------------------- */

static struct dp_scenario bsc;
static struct dp_workload bwl;

static void broken_setup(void)
{
    load(&variants[0], &bsc, &bwl);
}
static void broken_teardown(void) { dp_workload_free(&bwl); }

/* Run a fake whose ops are `ops` to its end, or to an hour of fake time
 * (a stalled run's sampling timer ticks forever); return core's error code
 * and message. */
static int run_broken(const struct dp_platform_ops *ops, struct fake *f, struct dp_err *err)
{
    memset(f, 0, sizeof *f);
    ck_assert_msg(dp_core_create(&f->core, &bsc, &bwl, ops, f, err) == 0, "%s", err->msg);
    dp_core_start(f->core);
    while (!dp_core_done(f->core) && f->now < 3600000000000ull && fake_step(f))
        ;
    return dp_core_error(f->core, err);
}

static void end_broken(struct fake *f)
{
    dp_core_destroy(f->core);
    free(f->ev);
}

static int move_twice(void *p, struct dp_xfer *x)
{
    struct fake *f = p;
    fake_move(p, x);
    return fake_push(f, f->now + 2000, F_XFER, x);
}

START_TEST(double_completion_is_caught)
{
    struct dp_platform_ops ops = fake_ops;
    ops.move = move_twice;
    struct fake f;
    struct dp_err err = { "" };
    ck_assert_int_eq(run_broken(&ops, &f, &err), DP_ESTATE);
    ck_assert_msg(strstr(err.msg, "rule 1"), "%s", err.msg);
    end_broken(&f);
}
END_TEST

static int no_status(struct fake *f, struct dp_xfer *x, struct dp_compute *k)
{
    return k ? DP_STATUS_PENDING : 0;   /* computes come back untouched */
}

START_TEST(missing_status_is_caught)
{
    struct fake f;
    struct dp_err err = { "" };
    memset(&f, 0, sizeof f);
    ck_assert_msg(dp_core_create(&f.core, &bsc, &bwl, &fake_ops, &f, &err) == 0, "%s", err.msg);
    f.status_of = no_status;
    dp_core_start(f.core);
    while (!dp_core_done(f.core) && f.now < 3600000000000ull && fake_step(&f))
        ;
    ck_assert_int_eq(dp_core_error(f.core, &err), DP_ESTATE);
    ck_assert_msg(strstr(err.msg, "rule 3"), "%s", err.msg);
    end_broken(&f);
}
END_TEST

static int move_reentrant(void *p, struct dp_xfer *x)
{
    struct fake *f = p;
    x->status = 0;
    dp_core_on_transfer_done(f->core, x);
    return 0;
}

START_TEST(reentrant_callback_is_caught)
{
    struct dp_platform_ops ops = fake_ops;
    ops.move = move_reentrant;
    struct fake f;
    struct dp_err err = { "" };
    ck_assert_int_eq(run_broken(&ops, &f, &err), DP_ESTATE);
    ck_assert_msg(strstr(err.msg, "rule 2"), "%s", err.msg);
    end_broken(&f);
}
END_TEST

/* Every 10th move is dropped: core cannot know, the loop stalls, and the
 * checking layer's figures show it (issued > completed). */
static int move_lossy(void *p, struct dp_xfer *x)
{
    struct fake *f = p;
    if (++f->moves % 10 == 0)
        return 0;
    return fake_push(f, f->now + 1000, F_XFER, x);
}

START_TEST(lost_op_shows)
{
    struct dp_platform_ops ops = fake_ops;
    ops.move = move_lossy;
    struct fake f;
    struct dp_err err = { "" };
    ck_assert_int_eq(run_broken(&ops, &f, &err), 0);
    ck_assert(!dp_core_done(f.core));
    struct dp_seam_stats st;
    dp_core_seam_stats(f.core, &st);
    ck_assert_uint_gt(st.moves, st.moves_done);
    end_broken(&f);
}
END_TEST

/* A table without a required op is refused; one without the optional
 * release runs (core's no-op default). */
START_TEST(required_and_optional_ops)
{
    struct dp_platform_ops ops = fake_ops;
    struct fake f;
    struct dp_err err = { "" };
    struct dp_core *c = NULL;
    memset(&f, 0, sizeof f);
    ops.timer = NULL;
    ck_assert_int_eq(dp_core_create(&c, &bsc, &bwl, &ops, &f, &err), DP_EINVAL);
    ck_assert_msg(strstr(err.msg, "lacks timer"), "%s", err.msg);
    fake_run(&f, &bsc, &bwl);   /* fake_ops has a release op: one call per request */
    ck_assert_uint_eq(f.releases, dp_workload_total_turns(&bwl));
    end_broken(&f);
    ops = fake_ops;
    ops.release = NULL;
    ck_assert_int_eq(run_broken(&ops, &f, &err), 0);
    ck_assert(dp_core_done(f.core));
    ck_assert_uint_eq(f.releases, 0);   /* never called: the default ran */
    end_broken(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conformance");
    TCase *tc = tcase_create("platforms");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, sim_keeps_the_rules, 0, N_VARIANTS);
    tcase_add_loop_test(tc, fake_keeps_the_rules, 0, N_VARIANTS);
    suite_add_tcase(s, tc);
    TCase *tb = tcase_create("broken");
    tcase_add_checked_fixture(tb, broken_setup, broken_teardown);
    tcase_add_test(tb, double_completion_is_caught);
    tcase_add_test(tb, missing_status_is_caught);
    tcase_add_test(tb, reentrant_callback_is_caught);
    tcase_add_test(tb, lost_op_shows);
    tcase_add_test(tb, required_and_optional_ops);
    suite_add_tcase(s, tb);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
