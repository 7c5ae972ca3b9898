/* dualpath compare: one workload under several policies, side by side. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/policy.h"
#include "sim/cli.h"
#include "sim/plot.h"
#include "sim/run.h"

#define MAX_POLICIES 16

static int split_policies(char *list, const char **names, struct dp_err *err)
{
    int n = 0;
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        if (n == MAX_POLICIES)
            return dp_err_set(err, DP_EINVAL, "--policies: at most %d", MAX_POLICIES);
        if (!dp_policy_find(tok))
            return dp_err_set(err, DP_EINVAL, "--policies: unknown policy '%s' (dualpath policies lists them)", tok);
        names[n++] = tok;
    }
    if (!n)
        return dp_err_set(err, DP_EINVAL, "--policies: empty list");
    return n;
}

static void row(const char *name, const struct dp_summary *s, double base_tput)
{
    printf("%-10s %9.1f %11.0f %7.2fx %8.3f %8.3f %8.1f %8.1f %6.1f%% %6.1f%% %6.1f%%\n", name,
           s->makespan_s, s->throughput_tok_s,
           base_tput > 0 ? s->throughput_tok_s / base_tput : 0, s->ttft_p[0], s->ttft_p[2],
           1e3 * s->tpot_p[0], 1e3 * s->tpot_p[2], 100 * s->slo_attainment,
           100 * s->pe_snic_util, 100 * s->de_snic_util);
}

int dp_cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        { "policies", required_argument, NULL, 'p' }, { "output", required_argument, NULL, 'o' },
        { "seed", required_argument, NULL, 's' },     { "trace", required_argument, NULL, 't' },
        { "set", required_argument, NULL, 'S' },      { "quiet", no_argument, NULL, 'q' },
        { "no-plot", no_argument, NULL, 'P' },        DP_REPLAY_LONG_OPTS,
        { NULL, 0, NULL, 0 },
    };
    char plist[512] = "basic,dualpath,oracle";
    const char *prefix = NULL, *trace = NULL;
    char *sets[64];
    int n_sets = 0, quiet = 0, have_seed = 0, plot = 1, c;
    uint64_t seed = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:o:q", opts, NULL)) != -1) {
        switch (c) {
        case 'p': snprintf(plist, sizeof plist, "%s", optarg); break;
        case 'o': prefix = optarg; break;
        case 's': seed = strtoull(optarg, NULL, 10); have_seed = 1; break;
        case 't': trace = optarg; break;
        case 'S': if (n_sets < 64) sets[n_sets++] = optarg; break;
        case 'q': quiet = 1; break;
        case 'P': plot = 0; break;
        default:
            if (dp_cli_replay_opt(c, optarg, sets, &n_sets) == 1)
                break;
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: dualpath compare SCENARIO.yaml [--policies basic,dualpath,oracle] [-o PREFIX]\n");
        return 2;
    }
    dp_cli_start();
    struct dp_err err = { "" };
    const char *names[MAX_POLICIES];
    int n = split_policies(plist, names, &err);
    struct dp_scenario sc;
    struct dp_workload w;
    memset(&w, 0, sizeof w);
    if (n < 0 || dp_cli_load_scenario(&sc, argv[optind], seed, have_seed, sets, n_sets, &err) ||
        dp_workload_build(&sc, trace, &w, &err)) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        return 1;
    }
    char defprefix[300];
    if (!prefix) {
        snprintf(defprefix, sizeof defprefix, "%s-compare", sc.name);
        prefix = defprefix;
    }
    struct dp_summary sum[MAX_POLICIES];
    char files[MAX_POLICIES][600];
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        struct dp_scenario s = sc;
        snprintf(s.policy.name, sizeof s.policy.name, "%s", names[i]);
        struct dp_sim_opts o = dp_cli_sim_opts(quiet, names[i]);
        struct dp_sim_result res;
        rc = dp_sim_run(&s, &w, &o, &res, &err);
        if (rc) {
            fprintf(stderr, "dualpath: policy %s: %s\n", names[i], err.msg);
            break;
        }
        struct dp_run_info info;
        dp_sim_result_info(&res, &s, trace ? trace : w.source, &info);
        sum[i] = info.summary;
        snprintf(files[i], sizeof files[i], "%s-%s.h5", prefix, names[i]);
        if (dp_h5_write(files[i], &info, &err)) {
            fprintf(stderr, "dualpath: %s\n", err.msg);
            rc = 1;
        }
        dp_sim_result_free(&res);
    }
    dp_workload_free(&w);
    if (rc)
        return 1;
    printf("scenario %s (%s, %u PE + %u DE), workload %s\n\n", sc.name, sc.model.name,
           sc.cluster.prefill_engines, sc.cluster.decode_engines, trace ? trace : "scenario");
    printf("%-10s %9s %11s %8s %8s %8s %8s %8s %7s %7s %7s\n", "policy", "JCT s", "tok/s",
           "speedup", "TTFT50", "TTFT99", "TPOT50", "TPOT99", "SLO", "PE-SNIC", "DE-SNIC");
    for (int i = 0; i < n; i++)
        row(names[i], &sum[i], sum[0].throughput_tok_s);
    printf("\n(speedup: throughput over %s; TTFT in s, TPOT in ms; SNIC: mean storage NIC read utilisation)\n",
           names[0]);
    for (int i = 0; i < n; i++)
        printf("results    %s\n", files[i]);
    if (plot) {
        char png[600];
        snprintf(png, sizeof png, "%s.png", prefix);
        const char *fl[MAX_POLICIES];
        for (int i = 0; i < n; i++)
            fl[i] = files[i];
        if (dp_plot("plot_compare.py", png, fl, n) == 0)
            printf("plot       %s\n", png);
    }
    return 0;
}
