/* Replays inputs through the fuzz targets' checks (tests/fuzz/fuzz_*.c,
 * compiled here without libFuzzer, with any compiler): every file kept in
 * tests/fuzz/regressions/<target>/ (inputs that once crashed or broke a
 * check, kept after the fix) and the seed corpus scripts/fuzz.sh starts
 * from. A crash, a sanitizer report (scripts/sanitize.sh runs this under
 * ASan + UBSan) or a failed check aborts the test; the file being replayed
 * is printed first. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DP_FUZZ_REPLAY 1
#include "../fuzz/fuzz_mooncake.c"
#include "../fuzz/fuzz_scenario.c"
#include "../fuzz/fuzz_sessions.c"
#include "../fuzz/fuzz_bailian.c"
#include "../fuzz/fuzz_agentic.c"

typedef int (*one_fn)(const uint8_t *data, size_t size);

static int replay_file(one_fn fn, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    fprintf(stderr, "replay %s\n", path);
    fn(buf, n);
    return 1;
}

/* Every regular file in dir whose name ends in suffix (NULL: any); files are
 * taken in name order so a failure is reproducible. Returns how many. */
static int replay_dir(one_fn fn, const char *dir, const char *suffix)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return 0;
    int done = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        size_t len = strlen(name), sl = suffix ? strlen(suffix) : 0;
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (name[0] != '.' && (!suffix || (len > sl && !strcmp(name + len - sl, suffix))) &&
            stat(path, &st) == 0 && S_ISREG(st.st_mode))
            done += replay_file(fn, path);
        free(names[i]);
    }
    free(names);
    return done;
}

#define SRC DP_SOURCE_DIR

START_TEST(regressions_scenario)
{
    int n = replay_dir(fuzz_scenario_one, SRC "/tests/fuzz/regressions/scenario", NULL);
    fprintf(stderr, "scenario: %d regression inputs\n", n);
}
END_TEST

START_TEST(regressions_mooncake)
{
    int n = replay_dir(fuzz_mooncake_one, SRC "/tests/fuzz/regressions/mooncake", NULL);
    fprintf(stderr, "mooncake: %d regression inputs\n", n);
}
END_TEST

START_TEST(regressions_sessions)
{
    int n = replay_dir(fuzz_sessions_one, SRC "/tests/fuzz/regressions/sessions", NULL);
    fprintf(stderr, "sessions: %d regression inputs\n", n);
}
END_TEST

START_TEST(regressions_bailian)
{
    int n = replay_dir(fuzz_bailian_one, SRC "/tests/fuzz/regressions/bailian", NULL);
    fprintf(stderr, "bailian: %d regression inputs\n", n);
}
END_TEST

START_TEST(regressions_agentic)
{
    int n = replay_dir(fuzz_agentic_one, SRC "/tests/fuzz/regressions/agentic", NULL);
    fprintf(stderr, "agentic: %d regression inputs\n", n);
}
END_TEST

START_TEST(seeds_scenario)
{
    int n = replay_dir(fuzz_scenario_one, SRC "/scenarios", ".yaml") +
            replay_dir(fuzz_scenario_one, SRC "/scenarios/bench", ".yaml") +
            replay_dir(fuzz_scenario_one, SRC "/scenarios/paper", ".yaml") +
            replay_dir(fuzz_scenario_one, SRC "/tests/data", ".yaml") +
            replay_dir(fuzz_scenario_one, SRC "/tests/data/bad_scenarios", NULL);
    ck_assert_int_gt(n, 10);
}
END_TEST

START_TEST(seeds_traces)
{
    int n = replay_dir(fuzz_mooncake_one, SRC "/tests/data", ".jsonl") +
            replay_dir(fuzz_mooncake_one, SRC "/tests/data/bad", NULL) +
            replay_dir(fuzz_sessions_one, SRC "/tests/data", ".jsonl") +
            replay_dir(fuzz_sessions_one, SRC "/tests/data/bad", NULL) +
            replay_dir(fuzz_bailian_one, SRC "/tests/data", ".jsonl") +
            replay_dir(fuzz_bailian_one, SRC "/tests/data/bad", NULL) +
            replay_dir(fuzz_agentic_one, SRC "/tests/data", ".jsonl") +
            replay_dir(fuzz_agentic_one, SRC "/tests/data/bad", NULL);
    ck_assert_int_gt(n, 20);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, regressions_scenario);
    tcase_add_test(tc, regressions_mooncake);
    tcase_add_test(tc, regressions_sessions);
    tcase_add_test(tc, regressions_bailian);
    tcase_add_test(tc, regressions_agentic);
    tcase_add_test(tc, seeds_scenario);
    tcase_add_test(tc, seeds_traces);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
