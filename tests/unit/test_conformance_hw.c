/* Conformance to the seam of the hardware shim (hw/platform_cuda*.c): the
 * checks of test_conformance.c (seam_check.h) on real GPUs, with a small
 * cut of hw/scenarios/testbed-1gpu.yaml (1 PE + 1 DE sharing GPU 0).
 *
 * Exits 77, which ctest reports as skipped (SKIP_RETURN_CODE), where it
 * cannot run: a build without the CUDA platform, or a machine without a
 * usable GPU. Runs without fork (CK_NOFORK): CUDA does not survive one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DP_SKIP 77

#ifndef DP_TEST_HW_PLATFORM

int main(void)
{
    printf("test_conformance_hw: this build has no CUDA platform (DP_WITH_CUDA): skipped\n");
    return DP_SKIP;
}

#else

#include <unistd.h>

#include "core/core.h"
#include "hw/platform_cuda.h"
#include "seam_check.h"

static char store_dir[] = "/tmp/dp-conformance-hw-XXXXXX";

struct variant {
    const char *policy;
    double max_time_s;   /* 0: runs to its end */
};
static const struct variant variants[] = {
    { "basic", 0 }, { "dualpath", 0 }, { "dualpath", 2.0 },
};
#define N_VARIANTS (sizeof variants / sizeof variants[0])

static void load(const struct variant *v, struct dp_scenario *sc, struct dp_workload *w)
{
    struct dp_err err = { "" };
    char num[32];
    ck_assert_msg(dp_scenario_load(sc, DP_SOURCE_DIR "/hw/scenarios/testbed-1gpu.yaml", &err) == 0,
                  "%s", err.msg);
    snprintf(num, sizeof num, "%g", v->max_time_s);
    const char *sets[][2] = {
        { "policy.name", v->policy }, { "workload.synthetic.agents", "4" },
        { "workload.synthetic.turns_max", "3" }, { "run.max_time_s", num },
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        ck_assert_msg(dp_scenario_set(sc, sets[i][0], sets[i][1], "test", &err) == 0, "%s",
                      err.msg);
    ck_assert_msg(dp_scenario_validate(sc, &err) == 0, "%s", err.msg);
    ck_assert_msg(dp_workload_build(sc, NULL, w, &err) == 0, "%s", err.msg);
}

static struct dp_hwplat_opts opts(void)
{
    struct dp_hwplat_opts o;
    memset(&o, 0, sizeof o);
    o.store_dir = store_dir;
    o.share_gpus = 1;
    o.dram_gib = 1;
    o.io_threads = 4;
    o.max_wall_s = 120;
    o.verify = 1;
    return o;
}

START_TEST(hw_keeps_the_rules)
{
    const struct variant *v = &variants[_i];
    struct dp_scenario *sc = calloc(1, sizeof *sc);
    struct dp_workload w;
    struct dp_err err = { "" };
    ck_assert_ptr_nonnull(sc);
    load(v, sc, &w);
    struct dp_hwplat_opts o = opts();
    o.block_tokens = sc->workload.block_tokens;
    struct dp_hwplat *p = NULL;
    struct dp_core *core = NULL;
    struct seam_check k;
    ck_assert_msg(dp_hwplat_create(&p, sc, &o, &err) == 0, "%s", err.msg);
    seam_check_init(&k, &dp_hw_ops, p);
    ck_assert_msg(dp_core_create(&core, sc, &w, &seam_check_ops, &k, &err) == 0, "%s", err.msg);
    dp_hwplat_attach(p, core);
    ck_assert_int_eq(dp_core_start(core), 0);
    ck_assert_msg(dp_hwplat_loop(p, NULL, &err) == 0, "%s", err.msg);
    seam_check_run(&k, core, v->max_time_s == 0);
    struct dp_hwplat_stats st;
    ck_assert_msg(dp_hwplat_stats(p, &st, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(st.slices_bad, 0);
    ck_assert_uint_eq(st.ops_failed, 0);
    struct dp_seam_stats ss;
    dp_core_seam_stats(core, &ss);
    dp_core_destroy(core);
    seam_check_end(&k, ss.requests);
    ck_assert_msg(dp_hwplat_destroy(p, &err) == 0, "%s", err.msg);
    dp_workload_free(&w);
    free(sc);
}
END_TEST

/* 1: a usable GPU, asked the way hw run asks (dp_hwplat_create); 0: none
 * (DP_ENODEV: skip); -1: something else failed (the test fails). */
static int have_gpu(void)
{
    struct dp_scenario *sc = calloc(1, sizeof *sc);
    struct dp_hwplat *p = NULL;
    struct dp_err err = { "" };
    if (!sc || dp_scenario_load(sc, DP_SOURCE_DIR "/hw/scenarios/testbed-1gpu.yaml", &err)) {
        fprintf(stderr, "test_conformance_hw: %s\n", err.msg);
        free(sc);
        return -1;
    }
    struct dp_hwplat_opts o = opts();
    int rc = dp_hwplat_create(&p, sc, &o, &err);
    if (rc)
        printf("test_conformance_hw: %s%s\n", err.msg, rc == DP_ENODEV ? ": skipped" : "");
    dp_hwplat_destroy(p, NULL);
    free(sc);
    return rc == 0 ? 1 : rc == DP_ENODEV ? 0 : -1;
}

int main(void)
{
    if (!mkdtemp(store_dir)) {
        perror("test_conformance_hw: mkdtemp");
        return 1;
    }
    int gpu = have_gpu();
    if (gpu <= 0) {
        rmdir(store_dir);
        return gpu == 0 ? DP_SKIP : 1;
    }
    Suite *s = suite_create("conformance_hw");
    TCase *tc = tcase_create("hw");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, hw_keeps_the_rules, 0, N_VARIANTS);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", store_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_conformance_hw: could not remove %s\n", store_dir);
    return failed ? 1 : 0;
}

#endif
