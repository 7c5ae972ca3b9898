/* `dualpath hw run`: load a scenario, build its workload, check the
 * machine, run the core on the CUDA platform, print the report and write
 * the HDF5 results. Any error is one line and a non-zero exit status, with
 * no results file. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/report.h"
#include "hw/hwrun.h"
#include "hw/platform_cuda.h"

static volatile sig_atomic_t dp_hw_interrupted;

static void dp_hw_on_signal(int sig)
{
    (void)sig;
    dp_hw_interrupted = 1;
}

struct dp_hwrun_args {
    const char *scenario, *out, *trace;
    char *sets[64];
    int n_sets;
    int probe;
    struct dp_hwplat_opts o;
};

static void dp_hwrun_usage(FILE *f)
{
    fprintf(f, "usage: dualpath hw run SCENARIO.yaml [-o RESULTS.h5] [--set KEY=VALUE]... "
               "[--trace FILE]\n"
               "       [--store DIR (.dp-hw-store)] [--share-gpus] [--hbm-gib G] "
               "[--dram-gib G]\n"
               "       [--io-threads N (8)] [--max-wall-s S] [--no-verify] [--quiet]\n"
               "       [--probe-compute: time the compute stand-ins against the cost model, "
               "no run]\n");
}

static int dp_hwrun_parse(struct dp_hwrun_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},    {"set", required_argument, 0, 'S'},
        {"trace", required_argument, 0, 't'},     {"store", required_argument, 0, 'd'},
        {"share-gpus", no_argument, 0, 'g'},      {"hbm-gib", required_argument, 0, 'H'},
        {"dram-gib", required_argument, 0, 'D'},  {"io-threads", required_argument, 0, 'T'},
        {"max-wall-s", required_argument, 0, 'W'}, {"no-verify", no_argument, 0, 'n'},
        {"quiet", no_argument, 0, 'q'},           {"help", no_argument, 0, 'h'},
        {"probe-compute", no_argument, 0, 'P'},
        {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'S':
            if (a->n_sets == 64) {
                fprintf(stderr, "dualpath hw run: at most 64 --set options\n");
                return 2;
            }
            a->sets[a->n_sets++] = optarg;
            break;
        case 't': a->trace = optarg; break;
        case 'd': a->o.store_dir = optarg; break;
        case 'g': a->o.share_gpus = 1; break;
        case 'H': a->o.hbm_gib = atof(optarg); break;
        case 'D': a->o.dram_gib = atof(optarg); break;
        case 'T': a->o.io_threads = atoi(optarg); break;
        case 'W': a->o.max_wall_s = atof(optarg); break;
        case 'n': a->o.verify = 0; break;
        case 'q': a->o.progress = 0; break;
        case 'P': a->probe = 1; break;
        case 'h': dp_hwrun_usage(stdout); return 1;
        default: dp_hwrun_usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dualpath hw run: expected one SCENARIO.yaml\n");
        dp_hwrun_usage(stderr);
        return 2;
    }
    a->scenario = argv[optind];
    return 0;
}

static int dp_hwrun_scenario(struct dp_scenario *sc, const struct dp_hwrun_args *a,
                             struct dp_err *err)
{
    int rc = dp_scenario_load(sc, a->scenario, err);
    for (int i = 0; !rc && i < a->n_sets; i++) {
        char key[256];
        const char *eq = strchr(a->sets[i], '=');
        if (!eq || eq == a->sets[i] || (size_t)(eq - a->sets[i]) >= sizeof key)
            return dp_err_set(err, DP_EINVAL, "--set '%s': expected KEY=VALUE", a->sets[i]);
        snprintf(key, sizeof key, "%.*s", (int)(eq - a->sets[i]), a->sets[i]);
        rc = dp_scenario_set(sc, key, eq + 1, "--set", err);
    }
    if (!rc && a->n_sets)
        rc = dp_scenario_validate(sc, err);
    return rc;
}

/* Trace workloads name blocks in their own size; synthetic ones use the
 * scenario's. */
static uint32_t dp_hwrun_block_tokens(const struct dp_scenario *sc, const struct dp_workload *w)
{
    for (size_t i = 0; i < w->n_sessions; i++)
        if (w->sessions[i].open_loop)
            return w->block_tokens;
    return sc->workload.block_tokens;
}

static int dp_hwrun_report(struct dp_hwplat *p, struct dp_core *core,
                           const struct dp_scenario *sc, const struct dp_workload *w,
                           const struct dp_hwrun_args *a, struct dp_err *err)
{
    uint32_t n_eng = sc->cluster.prefill_engines + sc->cluster.decode_engines;
    struct dp_engine_caps *caps = calloc(n_eng, sizeof *caps);
    struct dp_hwplat_stats st;
    struct dp_run_info info;
    if (!caps)
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    for (uint32_t e = 0; e < n_eng; e++) {
        dp_hwplat_caps(p, e, &caps[e].snic_bw, &caps[e].cnic_bw, &caps[e].pcie_bw);
        caps[e].role = e >= sc->cluster.prefill_engines;
    }
    int rc = dp_hwplat_stats(p, &st, err);
    if (rc) {
        free(caps);
        return rc;
    }
    struct dp_metrics *m = dp_core_metrics(core);
    m->complete = 1;
    memset(&info, 0, sizeof info);
    info.sc = sc;
    info.platform = "hw";
    info.workload_source = a->trace ? a->trace : w->source;
    info.m = m;
    info.caps = caps;
    info.n_pe = sc->cluster.prefill_engines;
    info.n_de = sc->cluster.decode_engines;
    info.wall_s = st.wall_s;
    dp_report_summarize(&info);
    dp_report_print(stdout, &info);
    printf("\nhw         %d x %s, %u engines%s\n", st.ngpu, st.gpu, n_eng,
           a->o.share_gpus ? " (sharing GPUs)" : "");
    printf("hw kv      %llu slices verified, %llu wrong or missing; %llu blocks read, "
           "%llu written\n", (unsigned long long)st.slices_checked,
           (unsigned long long)st.slices_bad, (unsigned long long)st.blocks_read,
           (unsigned long long)st.blocks_written);
    if (st.ops_failed)
        printf("hw faults  %llu ops failed alone (their requests failed or were retried); "
               "first: %s\n", (unsigned long long)st.ops_failed, st.op_failure);
    printf("hw work    %llu GEMMs, %llu copy/verify kernels, %.1f s\n",
           (unsigned long long)st.gemm_calls, (unsigned long long)st.kernels, st.wall_s);
    printf("hw compute prefill %llu layers: GPU %.3f s, cost model %.3f s (x%.2f); "
           "decode %llu steps: GPU %.3f s, cost model %.3f s (x%.2f)\n",
           (unsigned long long)st.prefill_n, st.prefill_gpu_s, st.prefill_model_s,
           st.prefill_model_s > 0 ? st.prefill_gpu_s / st.prefill_model_s : 0,
           (unsigned long long)st.decode_n, st.decode_gpu_s, st.decode_model_s,
           st.decode_model_s > 0 ? st.decode_gpu_s / st.decode_model_s : 0);
    const char *out = a->out;   /* set and checked by dp_hwrun */
    rc = dp_h5_write(out, &info, err);
    if (!rc)
        printf("\nresults    %s\n", out);
    free(caps);
    if (!rc && st.slices_bad)
        rc = dp_err_set(err, DP_EIO, "%llu KV slices arrived wrong or not at all",
                        (unsigned long long)st.slices_bad);
    return rc;
}

static int dp_hwrun(struct dp_hwrun_args *a, struct dp_err *err)
{
    struct dp_scenario *sc = calloc(1, sizeof *sc);
    struct dp_workload w;
    struct dp_hwplat *p = NULL;
    struct dp_core *core = NULL;
    memset(&w, 0, sizeof w);
    if (!sc)
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    int rc = dp_hwrun_scenario(sc, a, err);
    if (!rc && a->probe) {
        rc = dp_hwplat_probe(sc, stdout, err);
        free(sc);
        return rc;
    }
    char defout[300] = "";
    if (!rc)   /* the results' path is checked before any GPU work */
        snprintf(defout, sizeof defout, "%s-hw.h5", sc->name);
    if (!rc && !a->out)
        a->out = defout;
    if (!rc)
        rc = dp_output_check(a->out, defout, err);
    if (!rc)
        rc = dp_workload_build(sc, a->trace, &w, err);
    if (!rc) {
        a->o.block_tokens = dp_hwrun_block_tokens(sc, &w);
        rc = dp_hwplat_create(&p, sc, &a->o, err);
    }
    if (!rc)
        rc = dp_core_create(&core, sc, &w, &dp_hw_ops, p, err);
    if (!rc) {
        dp_hwplat_attach(p, core);
        signal(SIGINT, dp_hw_on_signal);
        signal(SIGTERM, dp_hw_on_signal);
        rc = dp_core_start(core) ? dp_core_error(core, err) : 0;
    }
    if (!rc)
        rc = dp_hwplat_loop(p, &dp_hw_interrupted, err);
    if (!rc)
        rc = dp_hwrun_report(p, core, sc, &w, a, err);
    dp_core_destroy(core);
    struct dp_err terr;
    int trc = dp_hwplat_destroy(p, &terr);
    if (!rc && trc)
        rc = dp_err_set(err, trc, "teardown: %s", terr.msg);
    dp_workload_free(&w);
    free(sc);
    return rc;
}

int dp_hw_run_main(int argc, char **argv)
{
    struct dp_hwrun_args a;
    struct dp_err err = {{0}};
    memset(&a, 0, sizeof a);
    a.o.store_dir = ".dp-hw-store";
    a.o.io_threads = 8;
    a.o.verify = 1;
    a.o.progress = isatty(2);
    int rc = dp_hwrun_parse(&a, argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    rc = dp_hwrun(&a, &err);
    if (rc) {
        fprintf(stderr, "dualpath hw run: %s\n", err.msg);
        return rc == DP_EINTR ? 130 : 1;
    }
    return 0;
}
