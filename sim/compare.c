/* dualpath compare: one workload under several policies, side by side.
 *
 * Every output path is checked before the first simulation. Ctrl-C or
 * SIGTERM stops the policy being simulated at its next event: its results so
 * far are written (marked incomplete), the policies already done are kept,
 * the table shows what there is, and the exit status is 128 + the signal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/policy.h"
#include "sim/cli.h"
#include "sim/plot.h"
#include "sim/run.h"

#define MAX_POLICIES 16

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dualpath compare SCENARIO.yaml [options]\n"
            "\n"
            "The same workload under several policies, side by side: a table on stdout,\n"
            "one results file per policy and a plot.\n"
            "\n"
            "  --policies LIST    comma-separated (default basic,dualpath,oracle;\n"
            "                     dualpath policies lists them)\n"
            "  -o, --output PFX   results PFX-POLICY.h5 and the plot PFX.png\n"
            "                     (default NAME-compare); checked before any simulation\n"
            "  --seed N, --trace FILE, --set KEY=VALUE   as for dualpath run\n"
            DP_REPLAY_HELP
            "  --no-plot          no PFX.png\n"
            "  -q, --quiet        no progress on stderr\n"
            "  -h, --help         this text\n"
            "\n"
            "Ctrl-C (SIGINT) or SIGTERM stops the policy being simulated, writes its results\n"
            "so far marked incomplete, keeps the policies already done, and exits with\n"
            "128 + the signal.\n");
}

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

static void header(void)
{
    printf("%-10s %9s %11s %8s %8s %8s %8s %8s %7s %7s %7s\n", "policy", "JCT", "throughput",
           "speedup", "TTFT50", "TTFT99", "TPOT50", "TPOT99", "SLO", "PE-SNIC", "DE-SNIC");
    printf("%-10s %9s %11s %8s %8s %8s %8s %8s %7s %7s %7s\n", "", "s", "tokens/s", "x", "s", "s",
           "ms", "ms", "%", "%", "%");
}

static void row(const char *name, const struct dp_summary *s, int complete, double base_tput)
{
    char jct[32];
    snprintf(jct, sizeof jct, complete ? "%.1f" : "-", s->makespan_s);
    printf("%-10s %9s %11.0f %7.2fx %8.3f %8.3f %8.1f %8.1f %6.1f%% %6.1f%% %6.1f%%%s\n", name, jct,
           s->throughput_tok_s, base_tput > 0 ? s->throughput_tok_s / base_tput : 0, s->ttft_p[0],
           s->ttft_p[2], 1e3 * s->tpot_p[0], 1e3 * s->tpot_p[2], 100 * s->slo_attainment,
           100 * s->pe_snic_util, 100 * s->de_snic_util,
           complete ? "" : "  (interrupted: so far)");
}

/* Every file the command will write, checked now. */
static int check_outputs(const char *prefix, const char **names, int n, int plot, char files[][600],
                         const char *scen, struct dp_err *err)
{
    char example[300], png[600];
    snprintf(example, sizeof example, "%s-compare", scen);
    int rc = dp_prefix_check(prefix, example, err);
    for (int i = 0; !rc && i < n; i++) {
        snprintf(files[i], 600, "%s-%s.h5", prefix, names[i]);
        rc = dp_output_check(files[i], example, err);
    }
    snprintf(png, sizeof png, "%s.png", prefix);
    if (!rc && plot)
        rc = dp_output_check(png, example, err);
    return rc;
}

int dp_cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        { "policies", required_argument, NULL, 'p' }, { "output", required_argument, NULL, 'o' },
        { "seed", required_argument, NULL, 's' },     { "trace", required_argument, NULL, 't' },
        { "set", required_argument, NULL, 'S' },      { "quiet", no_argument, NULL, 'q' },
        { "no-plot", no_argument, NULL, 'P' },        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },        DP_REPLAY_LONG_OPTS,
        { NULL, 0, NULL, 0 },
    };
    char plist[512] = "basic,dualpath,oracle";
    struct dp_cli_common o = { 0 };
    int plot = 1, c, r;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:o:qh", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'p')
            snprintf(plist, sizeof plist, "%s", optarg);
        else if (c == 'P')
            plot = 0;
        else if ((r = dp_cli_common_opt(&o, c, optarg, "compare")))
            return r == 1 ? 0 : 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dualpath compare: expected one SCENARIO.yaml (see dualpath compare --help)\n");
        return 2;
    }
    dp_cli_start();
    struct dp_err err = { "" };
    const char *names[MAX_POLICIES];
    char files[MAX_POLICIES][600], defprefix[300];
    struct dp_scenario sc;
    struct dp_workload w;
    memset(&w, 0, sizeof w);
    int n = split_policies(plist, names, &err);
    int rc = n < 0 ? n : dp_cli_load_scenario(&sc, argv[optind], o.seed, o.have_seed, o.sets, o.n_sets, &err);
    const char *prefix = o.out ? o.out : defprefix;
    if (!rc) {
        snprintf(defprefix, sizeof defprefix, "%s-compare", sc.name);
        rc = check_outputs(prefix, names, n, plot, files, sc.name, &err);
    }
    if (!rc)
        rc = dp_workload_build(&sc, o.trace, &w, &err);
    if (rc) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        dp_workload_free(&w);
        return 1;
    }
    struct dp_summary sum[MAX_POLICIES];
    int complete[MAX_POLICIES], done = 0;
    for (int i = 0; i < n && !rc; i++) {
        struct dp_scenario s = sc;
        snprintf(s.policy.name, sizeof s.policy.name, "%s", names[i]);
        struct dp_sim_opts so = dp_cli_sim_opts(o.quiet, names[i]);
        struct dp_sim_result res;
        rc = dp_sim_run(&s, &w, &so, &res, &err);
        if (rc && rc != DP_EINTR) {
            fprintf(stderr, "dualpath: policy %s: %s\n", names[i], err.msg);
            break;
        }
        if (rc == DP_EINTR)
            fprintf(stderr, "dualpath: policy %s: %s; its results so far are marked incomplete\n",
                    names[i], err.msg);
        struct dp_run_info info;
        dp_sim_result_info(&res, &s, o.trace ? o.trace : w.source, &info);
        sum[i] = info.summary;
        complete[i] = !res.interrupted;
        struct dp_err werr = { "" };
        if (dp_h5_write(files[i], &info, &werr)) {
            fprintf(stderr, "dualpath: %s\n", werr.msg);
            rc = rc ? rc : DP_EIO;
        } else {
            done = i + 1;
        }
        dp_sim_result_free(&res);
    }
    dp_workload_free(&w);
    if (done) {
        printf("scenario %s (%s, %u PE + %u DE), workload %s\n\n", sc.name, sc.model.name,
               sc.cluster.prefill_engines, sc.cluster.decode_engines, o.trace ? o.trace : "scenario");
        header();
        for (int i = 0; i < done; i++)
            row(names[i], &sum[i], complete[i], sum[0].throughput_tok_s);
        printf("\n(speedup: throughput over %s; SNIC: mean storage NIC read utilisation)\n", names[0]);
        for (int i = 0; i < done; i++)
            printf("results    %s%s\n", files[i], complete[i] ? "" : " (marked incomplete)");
    }
    if (rc == DP_EINTR) {
        if (done < n) {
            fprintf(stderr, "dualpath compare: interrupted; not simulated:");
            for (int i = done; i < n; i++)
                fprintf(stderr, "%s %s", i > done ? "," : "", names[i]);
            fprintf(stderr, "\n");
        }
        return dp_cli_interrupted_status();
    }
    if (rc)
        return 1;
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
