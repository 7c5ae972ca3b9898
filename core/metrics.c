#include "core/metrics.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"
#include "base/grow.h"

const char *const dp_series_names[DP_S_N] = {
    "snic_rx_util", "snic_tx_util", "cnic_rx_util", "cnic_tx_util", "pcie_h2d_util",
    "read_queue_bytes", "pending", "hbm_kv_bytes", "dram_kv_bytes",
};

int dp_metrics_init(struct dp_metrics *m, uint32_t n_engines)
{
    memset(m, 0, sizeof *m);
    m->n_engines = n_engines;
    for (int k = 0; k <= DP_S_PCIE_H2D; k++)
        if (!(m->bytes[k] = calloc(n_engines, sizeof(double))))
            return -1;
    m->complete = 1;
    return 0;
}

void dp_metrics_free(struct dp_metrics *m)
{
    free(m->recs);
    free(m->t);
    for (int k = 0; k < DP_S_N; k++)
        free(m->series[k]);
    for (int k = 0; k <= DP_S_PCIE_H2D; k++)
        free(m->bytes[k]);
    memset(m, 0, sizeof *m);
}

int dp_metrics_add(struct dp_metrics *m, const struct dp_req_rec *r)
{
    struct dp_req_rec *recs = dp_grow(m->recs, &m->cap_recs, m->n_recs + 1, sizeof *recs, 1024);
    if (!recs)
        return DP_ENOMEM;
    m->recs = recs;
    m->recs[m->n_recs++] = *r;
    return 0;
}

int dp_metrics_sample(struct dp_metrics *m, double t, size_t *row)
{
    if (m->n_samples == m->cap_samples) {
        /* the times set the capacity; the series follow, n_engines per sample */
        size_t cap = m->cap_samples;
        double *pt = dp_grow(m->t, &cap, m->n_samples + 1, sizeof *pt, 256);
        if (!pt)
            return DP_ENOMEM;
        m->t = pt;
        for (int k = 0; k < DP_S_N; k++) {
            double *p = realloc(m->series[k], cap * m->n_engines * sizeof *p);
            if (!p)
                return DP_ENOMEM;
            m->series[k] = p;
        }
        m->cap_samples = cap;
    }
    m->t[m->n_samples] = t;
    *row = m->n_samples++;
    return 0;
}

static void percentiles(double *v, size_t n, double out[3], double *mean)
{
    if (!n) {
        out[0] = out[1] = out[2] = *mean = 0;
        return;
    }
    gsl_sort(v, 1, n);
    out[0] = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.50);
    out[1] = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.90);
    out[2] = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.99);
    *mean = gsl_stats_mean(v, 1, n);
}

static void utilisation(const struct dp_metrics *m, const struct dp_engine_caps *caps,
                        uint32_t n_pe, double span, struct dp_summary *s)
{
    double ps = 0, ds = 0, pc = 0, dc = 0;
    uint32_t n_de = m->n_engines - n_pe;
    for (uint32_t e = 0; e < m->n_engines; e++) {
        double snic = m->bytes[DP_S_SNIC_RX][e] / (caps[e].snic_bw * span);
        double cnic = (m->bytes[DP_S_CNIC_RX][e] + m->bytes[DP_S_CNIC_TX][e]) /
                      (2 * caps[e].cnic_bw * span);
        if (e < n_pe) { ps += snic; pc += cnic; } else { ds += snic; dc += cnic; }
    }
    s->pe_snic_util = n_pe ? ps / n_pe : 0;
    s->de_snic_util = n_de ? ds / n_de : 0;
    s->pe_cnic_util = n_pe ? pc / n_pe : 0;
    s->de_cnic_util = n_de ? dc / n_de : 0;
}

struct sess_span {
    uint64_t session;
    double first, last;
    int ended;
};

static int by_session(const void *a, const void *b)
{
    const struct sess_span *x = a, *y = b;
    return x->session < y->session ? -1 : x->session > y->session;
}

/* Sessions that ended and their mean time, first issue to last token. A
 * session still running when the run was interrupted has no time yet and is
 * left out. */
static void session_spans(const struct dp_metrics *m, struct dp_summary *s)
{
    struct sess_span *v = malloc((m->n_recs + 1) * sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < m->n_recs; i++)
        v[i] = (struct sess_span){ m->recs[i].session, m->recs[i].t_issue, m->recs[i].t_done,
                                   (int)m->recs[i].session_end };
    qsort(v, m->n_recs, sizeof *v, by_session);
    double sum = 0;
    for (size_t i = 0; i < m->n_recs;) {
        size_t j = i;
        double first = v[i].first, last = v[i].last;
        int ended = 0;
        for (; j < m->n_recs && v[j].session == v[i].session; j++) {
            first = fmin(first, v[j].first);
            last = fmax(last, v[j].last);
            ended |= v[j].ended;
        }
        if (ended) {
            s->sessions++;
            sum += last - first;
        }
        i = j;
    }
    s->jct_mean_s = s->sessions ? sum / (double)s->sessions : 0;
    free(v);
}

int dp_summarize(const struct dp_metrics *m, const struct dp_engine_caps *caps, uint32_t n_pe,
                 double ttft_slo_s, double tpot_slo_s, struct dp_summary *s)
{
    memset(s, 0, sizeof *s);
    size_t n = m->n_recs;
    double *ttft = malloc((n + 1) * sizeof *ttft), *tpot = malloc((n + 1) * sizeof *tpot);
    if (!ttft || !tpot) {
        free(ttft);
        free(tpot);
        return -1;
    }
    double t0 = INFINITY, t1 = 0;
    size_t nt = 0, np = 0, ok = 0;
    for (size_t i = 0; i < n; i++) {
        const struct dp_req_rec *r = &m->recs[i];
        if (r->failed) {
            s->failed++;
            continue;
        }
        s->requests++;
        t0 = fmin(t0, r->t_issue);
        t1 = fmax(t1, r->t_done);
        s->input_tokens += r->input_tokens;
        s->output_tokens += r->output_tokens;
        s->new_tokens += r->new_tokens;
        s->cached_tokens += r->cached_tokens;
        s->de_cached_tokens += r->de_cached_tokens;
        ttft[nt++] = r->ttft;
        if (r->output_tokens > 1)
            tpot[np++] = r->tpot;
        if (r->ttft <= ttft_slo_s && (r->output_tokens <= 1 || r->tpot <= tpot_slo_s))
            ok++;
    }
    /* One time basis: a finished run's rates are over its makespan; an
     * interrupted one has none, and everything is over the simulated time
     * up to the interruption (the core's last sample). */
    s->makespan_s = s->requests && m->complete ? t1 - t0 : 0;
    s->elapsed_s = m->complete ? s->makespan_s : m->end_s;
    s->sessions_total = m->sessions_total;
    double span = s->elapsed_s > 0 ? s->elapsed_s : 1;
    s->throughput_tok_s = (s->input_tokens + s->output_tokens) / span;
    s->output_tok_s = s->output_tokens / span;
    s->prefill_tok_s = s->new_tokens / span;
    s->slo_attainment = s->requests ? (double)ok / (double)s->requests : 0;
    percentiles(ttft, nt, s->ttft_p, &s->ttft_mean);
    percentiles(tpot, np, s->tpot_p, &s->tpot_mean);
    utilisation(m, caps, n_pe, m->end_s > 0 ? m->end_s : span, s);
    session_spans(m, s);
    s->a2a_stretch_mean = m->a2a_ideal_s > 0 ? m->a2a_actual_s / m->a2a_ideal_s : 0;
    s->a2a_stretch_max = m->a2a_max_stretch;
    free(ttft);
    free(tpot);
    return 0;
}

#define F(n, u, d) { #n, offsetof(struct dp_summary, n), 0, u, d }
#define I(n, u, d) { #n, offsetof(struct dp_summary, n), 1, u, d }
#define P(n, v, k, u, d) { n, offsetof(struct dp_summary, v[k]), 0, u, d }
const struct dp_summary_field dp_summary_fields[DP_SUMMARY_N_FIELDS] = {
    I(requests, "requests", "requests finished (not failed)"),
    I(failed, "requests", "requests that failed"),
    I(sessions, "sessions", "sessions that ended (every turn done, or failed)"),
    I(sessions_total, "sessions", "sessions in the workload"),
    F(makespan_s, "s", "job completion time: first issue to last completion (0: the run was interrupted)"),
    F(elapsed_s, "s", "simulated time the rates and utilisations are over (the makespan, or up to the interruption)"),
    F(throughput_tok_s, "tokens/s", "input + output tokens of finished requests per second of elapsed_s"),
    F(output_tok_s, "tokens/s", "output tokens per second of elapsed_s"),
    F(prefill_tok_s, "tokens/s", "new (computed, not loaded) input tokens per second of elapsed_s"),
    F(input_tokens, "tokens", "input tokens of finished requests"),
    F(output_tokens, "tokens", "output tokens of finished requests"),
    F(new_tokens, "tokens", "input tokens computed by prefill"),
    F(cached_tokens, "tokens", "input tokens whose KV-Cache was loaded from storage"),
    F(de_cached_tokens, "tokens", "of cached_tokens, those loaded over the decode engines' read path"),
    P("ttft_p50_s", ttft_p, 0, "s", "time to first token, median"),
    P("ttft_p90_s", ttft_p, 1, "s", "time to first token, 90th percentile"),
    P("ttft_p99_s", ttft_p, 2, "s", "time to first token, 99th percentile"),
    P("tpot_p50_s", tpot_p, 0, "s", "time per output token after the first, median"),
    P("tpot_p90_s", tpot_p, 1, "s", "time per output token, 90th percentile"),
    P("tpot_p99_s", tpot_p, 2, "s", "time per output token, 99th percentile"),
    { "ttft_mean_s", offsetof(struct dp_summary, ttft_mean), 0, "s", "time to first token, mean" },
    { "tpot_mean_s", offsetof(struct dp_summary, tpot_mean), 0, "s", "time per output token, mean" },
    F(slo_attainment, "fraction (0-1)", "share of finished requests meeting both the TTFT and the TPOT SLO"),
    { "session_time_mean_s", offsetof(struct dp_summary, jct_mean_s), 0, "s",
      "mean session time, first issue to last token, of the sessions that ended" },
    F(pe_snic_util, "fraction (0-1)", "prefill engines' storage NIC read utilisation, mean over engines and elapsed time"),
    F(de_snic_util, "fraction (0-1)", "decode engines' storage NIC read utilisation, mean over engines and elapsed time"),
    F(pe_cnic_util, "fraction (0-1)", "prefill engines' compute NIC utilisation (in and out), mean"),
    F(de_cnic_util, "fraction (0-1)", "decode engines' compute NIC utilisation (in and out), mean"),
    F(a2a_stretch_mean, "ratio", "all-to-all collectives: actual over alone time, total (1 = never delayed by KV traffic; 0 = none ran)"),
    F(a2a_stretch_max, "ratio", "all-to-all collectives: worst actual over alone time"),
};
#undef F
#undef I
#undef P
const size_t dp_summary_n_fields = DP_SUMMARY_N_FIELDS;
_Static_assert(sizeof dp_summary_fields / sizeof dp_summary_fields[0] == DP_SUMMARY_N_FIELDS,
               "DP_SUMMARY_N_FIELDS");

double dp_summary_get(const struct dp_summary *s, size_t i)
{
    const char *p = (const char *)s + dp_summary_fields[i].off;
    return dp_summary_fields[i].integer ? (double)*(const uint64_t *)p : *(const double *)p;
}
