/* What a run measured: one record per finished request, time series of
 * every engine's links, queues and memory, and the summary computed from
 * them. Platform-neutral: the simulator and the hardware shim fill the
 * same records. */
#ifndef DP_METRICS_H
#define DP_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct dp_req_rec {
    uint64_t id;
    uint64_t session;
    uint32_t turn;
    int32_t pe, de;             /* engine ids (PEs first, then DEs) */
    uint32_t input_tokens;
    uint32_t cached_tokens;     /* loaded from storage */
    uint32_t de_cached_tokens;  /* of those, over the DE read path */
    uint32_t new_tokens;
    uint32_t output_tokens;
    uint32_t failed;
    uint32_t session_end;       /* 1: its session's last request (the session ended with it) */
    double t_issue, t_ready, t_prefill, t_first, t_decode, t_done;  /* seconds */
    double ttft, tpot;          /* seconds */
};

/* Per-engine series, one row per sample: [sample][engine]. */
enum dp_series_kind {
    DP_S_SNIC_RX = 0,   /* storage NIC utilisation (reads), 0..1 */
    DP_S_SNIC_TX,       /* storage NIC utilisation (writes) */
    DP_S_CNIC_RX,       /* compute NIC utilisation, in */
    DP_S_CNIC_TX,       /* compute NIC utilisation, out */
    DP_S_PCIE_H2D,      /* PCIe host-to-device utilisation */
    DP_S_READ_Q,        /* storage read queue, bytes */
    DP_S_PENDING,       /* prefill: pending new tokens; decode: running requests */
    DP_S_HBM,           /* KV bytes in HBM */
    DP_S_DRAM,          /* KV bytes in the DRAM buffer */
    DP_S_N
};
extern const char *const dp_series_names[DP_S_N];

struct dp_metrics {
    struct dp_req_rec *recs;
    size_t n_recs, cap_recs;
    uint32_t n_engines;
    size_t n_samples, cap_samples;
    double *t;                  /* sample times, seconds */
    double *series[DP_S_N];     /* n_samples * n_engines each */
    /* cumulative bytes per engine (final counters) */
    double *bytes[DP_S_PCIE_H2D + 1];
    uint64_t failed, retried;
    /* collectives (expert all-to-all): how much KV traffic delayed them */
    double a2a_n, a2a_ideal_s, a2a_actual_s, a2a_max_stretch;
    double end_s;               /* last simulated instant */
    uint64_t sessions_total;    /* sessions in the workload */
    int complete;               /* 0 if the run was interrupted */
};

int dp_metrics_init(struct dp_metrics *m, uint32_t n_engines);
void dp_metrics_free(struct dp_metrics *m);
int dp_metrics_add(struct dp_metrics *m, const struct dp_req_rec *r);
/* Append a sample row; returns a pointer to fill series[k][row*n + e], or -1. */
int dp_metrics_sample(struct dp_metrics *m, double t, size_t *row);

struct dp_summary {
    uint64_t requests, failed;
    uint64_t sessions;          /* sessions that ended (every turn done, or failed) */
    uint64_t sessions_total;    /* sessions in the workload */
    /* first issue to last completion; 0 when the run was interrupted (its
     * jobs never completed): rates are then over elapsed_s */
    double makespan_s;
    double elapsed_s;           /* simulated time the rates and utilisations are over */
    double input_tokens, output_tokens, new_tokens, cached_tokens, de_cached_tokens;
    double throughput_tok_s;    /* (input + output) tokens per second of makespan */
    double output_tok_s;
    double prefill_tok_s;       /* new (computed) tokens per second */
    double ttft_p[3], tpot_p[3];/* p50, p90, p99, seconds */
    double ttft_mean, tpot_mean;
    double slo_attainment;      /* share of requests meeting both SLOs */
    double jct_mean_s;          /* mean session time (first issue to last token) of the
                                   sessions that ended */
    /* utilisation over the simulated time, averaged per role */
    double pe_snic_util, de_snic_util, pe_cnic_util, de_cnic_util;
    /* collectives: actual / alone time, mean over all and worst */
    double a2a_stretch_mean, a2a_stretch_max;
};

/* Summarise; bandwidths give each engine's link capacity for utilisation. */
struct dp_engine_caps {
    double snic_bw, cnic_bw, pcie_bw;
    int role;
};
int dp_summarize(const struct dp_metrics *m, const struct dp_engine_caps *caps,
                 uint32_t n_pe, double ttft_slo_s, double tpot_slo_s, struct dp_summary *s);

/* The summary's figures by name, with their units and meaning: the results
 * file's /summary attributes, the sweep's table and its journal all list
 * them from here, in this order. */
struct dp_summary_field {
    const char *name;
    size_t off;                 /* in struct dp_summary */
    int integer;                /* a uint64_t count; else a double */
    const char *units;
    const char *description;
};
#define DP_SUMMARY_N_FIELDS 30
extern const struct dp_summary_field dp_summary_fields[DP_SUMMARY_N_FIELDS];
extern const size_t dp_summary_n_fields;
double dp_summary_get(const struct dp_summary *s, size_t i);

#endif
