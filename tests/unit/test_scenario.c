/* Scenario loading: every bad-input case gives one error naming the file,
 * the line and the field; good files load with the values they say. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/scenario.h"

#define BAD DP_TEST_DATA "/bad_scenarios/"

static void expect_error(const char *file, const char *needle1, const char *needle2)
{
    struct dp_scenario sc;
    struct dp_err err = { "" };
    int rc = dp_scenario_load(&sc, file, &err);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(strstr(err.msg, needle1), "'%s' lacks '%s'", err.msg, needle1);
    if (needle2)
        ck_assert_msg(strstr(err.msg, needle2), "'%s' lacks '%s'", err.msg, needle2);
    ck_assert_ptr_null(strchr(err.msg, '\n'));   /* one line */
}

START_TEST(loads_small)
{
    struct dp_scenario sc;
    struct dp_err err = { "" };
    ck_assert_msg(dp_scenario_load(&sc, DP_TEST_DATA "/small.yaml", &err) == 0, "%s", err.msg);
    ck_assert_str_eq(sc.name, "small");
    ck_assert_uint_eq(sc.seed, 7);
    ck_assert_str_eq(sc.model.name, "DS27B");
    ck_assert_uint_eq(sc.model.n_layers, 30);
    ck_assert_uint_eq(sc.cluster.prefill_engines, 1);
    ck_assert_uint_eq(sc.workload.synthetic.agents, 6);
    ck_assert(sc.hw.snic_bw > 1e9);
}
END_TEST

START_TEST(set_overrides)
{
    struct dp_scenario sc;
    struct dp_err err = { "" };
    ck_assert(dp_scenario_load(&sc, DP_TEST_DATA "/small.yaml", &err) == 0);
    ck_assert_int_eq(dp_scenario_set(&sc, "cluster.prefill_engines", "4", "--set", &err), 0);
    ck_assert_uint_eq(sc.cluster.prefill_engines, 4);
    ck_assert_int_eq(dp_scenario_set(&sc, "hardware.snic_bw", "2.5e10", "--set", &err), 0);
    ck_assert(sc.hw.snic_bw == 2.5e10);
    ck_assert_int_ne(dp_scenario_set(&sc, "hardware.snic_bw", "-1", "--set", &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "snic_bw"));
    ck_assert_int_ne(dp_scenario_set(&sc, "cluster.prefil_engines", "4", "--set", &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "did you mean 'cluster.prefill_engines'"));
    ck_assert_int_eq(dp_scenario_set(&sc, "model", "qwen32b", "--set", &err), 0);
    ck_assert_uint_eq(sc.model.n_layers, 64);
}
END_TEST

START_TEST(unknown_key) { expect_error(BAD "unknown_key.yaml", "unknown_key.yaml:4", "cluster.prefil_engines"); }
END_TEST
START_TEST(wrong_type) { expect_error(BAD "wrong_type.yaml", "wrong_type.yaml:4", "cluster.prefill_engines"); }
END_TEST
START_TEST(negative_bw) { expect_error(BAD "negative_bw.yaml", "negative_bw.yaml:5", "snic_bw"); }
END_TEST
START_TEST(zero_bw) { expect_error(BAD "zero_bw.yaml", "zero_bw.yaml:5", "cnic_bw"); }
END_TEST
START_TEST(missing_model) { expect_error(BAD "missing_model.yaml", "missing_model.yaml:2", "ds999b"); }
END_TEST
START_TEST(yaml_syntax) { expect_error(BAD "yaml_syntax.yaml", "yaml_syntax.yaml:", "syntax"); }
END_TEST
START_TEST(duplicate_key) { expect_error(BAD "duplicate_key.yaml", "duplicate_key.yaml:4", "seed"); }
END_TEST
START_TEST(negative_agents) { expect_error(BAD "negative_agents.yaml", "negative_agents.yaml:5", "workload.synthetic.agents"); }
END_TEST
START_TEST(nested_typo_suggests)
{
    char path[] = "/tmp/dp_nested_typo_XXXXXX";
    int fd = mkstemp(path);
    const char *text = "name: t\nmodel: ds27b\nhardware:\n  base: hopper\n  snic_bww: 1e10\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    expect_error(path, ":5: unknown key 'hardware.snic_bww'", "did you mean 'hardware.snic_bw'");
    unlink(path);
}
END_TEST

START_TEST(missing_file) { expect_error(BAD "no_such_file.yaml", "no_such_file.yaml", "cannot open"); }
END_TEST

int main(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, loads_small);
    tcase_add_test(tc, set_overrides);
    tcase_add_test(tc, unknown_key);
    tcase_add_test(tc, wrong_type);
    tcase_add_test(tc, negative_bw);
    tcase_add_test(tc, zero_bw);
    tcase_add_test(tc, missing_model);
    tcase_add_test(tc, yaml_syntax);
    tcase_add_test(tc, duplicate_key);
    tcase_add_test(tc, negative_agents);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, nested_typo_suggests);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
