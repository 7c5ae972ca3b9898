#include "core/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int dp_prefix_check(const char *prefix, const char *example, struct dp_err *err)
{
    const char *b = base_name(prefix);
    if (!*prefix)
        return dp_err_set(err, DP_EINVAL, "-o '': expected a name, e.g. -o %s", example);
    if (!*b || !strcmp(b, ".") || !strcmp(b, ".."))
        return dp_err_set(err, DP_EINVAL, "-o %s: names a folder, not a name for the results; "
                          "give one inside it, e.g. -o %s%s%s", prefix, prefix,
                          *b ? "/" : "", example);
    return 0;
}

int dp_output_check(const char *path, const char *example, struct dp_err *err)
{
    int rc = dp_prefix_check(path, example, err);
    if (rc)
        return rc;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return dp_err_set(err, DP_EINVAL, "%s: is a folder; name a file inside it, e.g. %s/%s",
                          path, path, example);
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return dp_err_set(err, DP_EINVAL, "%s: exists and is not a regular file", path);
    char dir[1024];
    const char *b = base_name(path);
    int len = (int)(b - path);
    if (len > 1)
        len--;   /* "out/x.h5": the folder "out"; "/x.h5": "/" */
    snprintf(dir, sizeof dir, "%.*s", len ? len : 1, len ? path : ".");
    if (stat(dir, &st) != 0)
        return dp_err_set(err, DP_ENOENT, "%s: the folder %s does not exist (mkdir -p %s creates it)",
                          path, dir, dir);
    if (!S_ISDIR(st.st_mode))
        return dp_err_set(err, DP_EINVAL, "%s: %s is not a folder", path, dir);
    char probe[1100];
    snprintf(probe, sizeof probe, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        return 0;
    if (fd < 0)
        return dp_err_set(err, DP_EIO, "%s: cannot create files in the folder %s: %s", path, dir,
                          strerror(errno));
    close(fd);
    unlink(probe);
    return 0;
}

int dp_report_summarize(struct dp_run_info *info)
{
    const struct dp_scenario *sc = info->sc;
    return dp_summarize(info->m, info->caps, info->n_pe, sc->slo.ttft_ms / 1e3,
                        sc->slo.tpot_ms / 1e3, &info->summary);
}

static void util_row(FILE *out, const struct dp_run_info *in, uint32_t e, double span)
{
    const struct dp_metrics *m = in->m;
    const struct dp_engine_caps *k = &in->caps[e];
    int pe = e < in->n_pe;
    fprintf(out, "  %-4s %-4u %9.1f%% %9.1f%% %9.1f%% %9.1f%%\n", pe ? "PE" : "DE",
            pe ? e : e - in->n_pe,
            100 * m->bytes[DP_S_SNIC_RX][e] / (k->snic_bw * span),
            100 * m->bytes[DP_S_SNIC_TX][e] / (k->snic_bw * span),
            100 * m->bytes[DP_S_CNIC_RX][e] / (k->cnic_bw * span),
            100 * m->bytes[DP_S_CNIC_TX][e] / (k->cnic_bw * span));
}

void dp_report_print(FILE *out, const struct dp_run_info *in)
{
    const struct dp_summary *s = &in->summary;
    const struct dp_scenario *sc = in->sc;
    double span = in->m->end_s > 0 ? in->m->end_s : 1;
    fprintf(out, "scenario   %s  (%s, policy %s, seed %llu, %s)\n", sc->name, sc->model.name,
            sc->policy.name, (unsigned long long)sc->seed, in->platform);
    fprintf(out, "cluster    %u PE x %u GPUs, %u DE x %u GPUs, %s\n", in->n_pe,
            sc->cluster.prefill_gpus, in->n_de, sc->cluster.decode_gpus, sc->hw.name);
    fprintf(out, "workload   %s: %llu requests done, %llu failed\n", in->workload_source,
            (unsigned long long)s->requests, (unsigned long long)s->failed);
    if (!in->m->complete)
        fprintf(out, "INCOMPLETE interrupted at simulated t=%.1f s: figures below are over the "
                     "requests and sessions finished by then\n", span);
    fprintf(out, "\n");
    if (in->m->complete)
        fprintf(out, "  job completion time      %12.2f s\n", s->makespan_s);
    else
        fprintf(out, "  job completion time      %12s   (interrupted before the last session ended)\n",
                "not reached");
    char count[64];
    if (s->sessions < s->sessions_total)
        snprintf(count, sizeof count, "%llu of %llu sessions finished", (unsigned long long)s->sessions,
                 (unsigned long long)s->sessions_total);
    else
        snprintf(count, sizeof count, "%llu sessions", (unsigned long long)s->sessions);
    if (s->sessions)
        fprintf(out, "  session time (mean)      %12.2f s  (%s, first issue to last token)\n",
                s->jct_mean_s, count);
    else
        fprintf(out, "  session time (mean)      %12s   (0 of %llu sessions finished)\n", "none",
                (unsigned long long)s->sessions_total);
    fprintf(out, "  throughput (in+out)      %12.0f tokens/s\n", s->throughput_tok_s);
    fprintf(out, "  prefill computed         %12.0f tokens/s\n", s->prefill_tok_s);
    fprintf(out, "  decode output            %12.0f tokens/s\n", s->output_tok_s);
    fprintf(out, "  cache reuse              %12.1f %% of input tokens (%.1f %% of them over the DE path)\n",
            s->input_tokens > 0 ? 100 * s->cached_tokens / s->input_tokens : 0,
            s->cached_tokens > 0 ? 100 * s->de_cached_tokens / s->cached_tokens : 0);
    fprintf(out, "  TTFT  p50/p90/p99        %9.3f %9.3f %9.3f s\n", s->ttft_p[0], s->ttft_p[1],
            s->ttft_p[2]);
    fprintf(out, "  TPOT  p50/p90/p99        %9.1f %9.1f %9.1f ms\n", 1e3 * s->tpot_p[0],
            1e3 * s->tpot_p[1], 1e3 * s->tpot_p[2]);
    fprintf(out, "  SLO attainment           %12.1f %%  (TTFT <= %g ms, TPOT <= %g ms)\n",
            100 * s->slo_attainment, sc->slo.ttft_ms, sc->slo.tpot_ms);
    if (in->m->a2a_n > 0)
        fprintf(out, "  all-to-all stretch       %12.3f mean, %.3f worst  (1 = never delayed by KV traffic; isolation %s)\n",
                s->a2a_stretch_mean, s->a2a_stretch_max, sc->traffic.isolation ? "on" : "off");
    fprintf(out, "\n  engine     SNIC rd    SNIC wr    CNIC in   CNIC out   (utilisation over %.1f s)\n",
            span);
    uint32_t ne = in->n_pe + in->n_de;
    /* large clusters: first and last few engines of each role */
    for (uint32_t e = 0; e < ne; e++) {
        int pe = e < in->n_pe;
        uint32_t i = pe ? e : e - in->n_pe, n = pe ? in->n_pe : in->n_de;
        if (n > 8 && i >= 3 && i + 3 < n) {
            if (i == 3)
                fprintf(out, "  ... %u more %s\n", n - 6, pe ? "PEs" : "DEs");
            continue;
        }
        util_row(out, in, e, span);
    }
    fprintf(out, "  mean PE SNIC %.1f%%, DE SNIC %.1f%%\n", 100 * s->pe_snic_util,
            100 * s->de_snic_util);
    if (in->events)
        fprintf(out, "\n  simulated %.1f s in %.2f s wall, %llu events (%.2f M/s)\n", span,
                in->wall_s, (unsigned long long)in->events,
                in->wall_s > 0 ? in->events / in->wall_s / 1e6 : 0);
}
