/* `dualpath hw SUBCOMMAND ...`: dispatch (hw.h). */
#include <stdio.h>
#include <string.h>

#include "hw/bench.h"
#include "hw/hw.h"
#include "hw/verbs.h"

#ifdef DP_HW_HAVE_RUN
#include "hw/hwrun.h"
#endif

static void dp_hw_usage(FILE *f)
{
    fprintf(f,
            "usage: dualpath hw SUBCOMMAND [options]\n"
            "  bench      batched KV block copies vs bulk copies (name=value lines)\n"
            "  calibrate  measure this machine, write a hardware YAML (-o FILE)\n"
            "  store      write a KV block store, read it back via the SNIC bucket, verify\n"
            "  verbs      probe RDMA devices\n"
            "  run        run a scenario on the GPUs: dualpath hw run SCENARIO.yaml\n"
            "each subcommand takes --help\n");
}

static int dp_hw_verbs_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return dp_verbs_probe(stdout) == 0 ? 0 : 1;
}

static int dp_hw_run_dispatch(int argc, char **argv)
{
#ifdef DP_HW_HAVE_RUN
    return dp_hw_run_main(argc, argv);
#else
    (void)argc;
    (void)argv;
    fprintf(stderr, "dualpath hw run: this build has no core (build the whole project, "
                    "not hw/ alone)\n");
    return 2;
#endif
}

int dp_hw_main(int argc, char **argv)
{
    /* argv[0] is "hw" or the program's name; the subcommand follows */
    argc--;
    argv++;
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"bench", dp_hw_bench_main},
        {"calibrate", dp_hw_calibrate_main},
        {"store", dp_hw_store_main},
        {"verbs", dp_hw_verbs_main},
        {"run", dp_hw_run_dispatch},
    };
    if (argc >= 1 && !strcmp(argv[0], "--version")) {
        printf("dualpath %s\n", DP_VERSION);
        return 0;
    }
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        dp_hw_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[0], cmds[i].name))
            return cmds[i].fn(argc, argv);
    fprintf(stderr, "dualpath hw: unknown subcommand '%s'\n", argv[0]);
    dp_hw_usage(stderr);
    return 2;
}
