/* A scenario: cluster, model, hardware, workload, policy, SLOs, run
 * settings, as loaded from YAML (scenarios/README.md documents every key).
 * Loaded once, then read-only: every run of the same scenario and seed gives
 * the same bytes. */
#ifndef DP_SCENARIO_H
#define DP_SCENARIO_H

#include <stdint.h>

#include "core/config.h"
#include "base/errors.h"
#include "models/model.h"
#include "traces/trace.h"

enum dp_workload_kind { DP_WL_SYNTHETIC = 0, DP_WL_TRACE = 1 };
/* auto: Mooncake requests open loop, session-structured traces closed loop */
enum dp_replay_mode { DP_REPLAY_AUTO = 0, DP_REPLAY_CLOSED, DP_REPLAY_OPEN };
enum dp_pe_select { DP_SEL_LEAST_LOADED = 0, DP_SEL_ROUND_ROBIN = 1 };

struct dp_scenario {
    char name[64];
    char file[512];              /* where it was loaded from */
    char dir[512];               /* its folder: relative paths resolve here */
    uint64_t seed;

    char model_ref[128];         /* as written: a name or a path */
    struct dp_model model;
    char hw_ref[128];
    struct dp_hw hw;

    struct {
        uint32_t prefill_engines;
        uint32_t decode_engines;
        uint32_t prefill_gpus;   /* GPUs per prefill engine */
        uint32_t decode_gpus;    /* GPUs per decode engine */
    } cluster;

    struct {
        uint32_t kind;           /* enum dp_workload_kind */
        char trace[512];         /* DP_WL_TRACE: a Mooncake or sessions file */
        uint32_t block_tokens;   /* KV block size for synthetic sessions */
        double time_scale;       /* trace: multiply issue times (>1 slows arrivals) */
        uint64_t limit;          /* trace: first N sessions only (0 = all) */
        struct dp_synth_params synthetic;
        uint32_t format;         /* trace: enum dp_trace_format (0 = by its fields) */
        uint32_t hash_block;     /* trace: tokens per hash id (0 = the format's own) */
        uint32_t replay;         /* trace: enum dp_replay_mode */
        double rate;             /* arrivals per second (0 = as recorded / time_scale) */
    } workload;

    struct {
        char name[32];           /* basic, dualpath, oracle, or a registered one */
        uint32_t pe_select;      /* enum dp_pe_select (basic) */
        double de_read_threshold;/* dualpath: see core/README.md */
        int split;               /* dualpath: may split one request's reads over both paths */
    } policy;

    struct {
        uint32_t prefill_batch_tokens;  /* compute quota: new tokens per batch */
        double prefill_batch_ms;        /* compute quota: estimated batch time */
        uint32_t decode_max_batch;
        uint32_t prefetch_layers;       /* layerwise: loads issued ahead of compute */
        uint32_t max_inflight_reads;    /* storage reads in flight per engine */
    } sched;

    struct {
        int isolation;           /* KV traffic in the low-priority lane */
        int overlap_a2a;         /* all-to-all beside compute (two micro-batches), not after it */
    } traffic;

    struct {
        double ttft_ms;
        double tpot_ms;
    } slo;

    /* The scenario's sweep: section (capacity planning), if any: `dualpath
     * sweep` reads it from the file; a plain run ignores it. */
    uint32_t sweep_line;        /* 0 = none */

    struct {
        double sample_interval_s;
        double max_time_s;       /* stop the clock here (0 = run to completion) */
    } run;
};

/* Defaults, then FILE, with model and hardware files resolved. */
int dp_scenario_load(struct dp_scenario *sc, const char *file, struct dp_err *err);
void dp_scenario_defaults(struct dp_scenario *sc);
/* Set one key ("cluster.prefill_engines", "hardware.snic_bw", "model.n_layers")
 * from text, re-resolving model/hardware when model/hardware names change. */
int dp_scenario_set(struct dp_scenario *sc, const char *key, const char *value,
                    const char *origin, struct dp_err *err);
/* Cross-field checks after loading and overrides. */
int dp_scenario_validate(const struct dp_scenario *sc, struct dp_err *err);
/* Text of every resolved key, "key: value" per line (stored with results). */
int dp_scenario_dump(const struct dp_scenario *sc, char *buf, size_t len);
const struct dp_cfg_schema *dp_scenario_schema(void);

/* Build the scenario's workload: its trace, or the synthetic generator
 * seeded with the scenario's seed. trace_override replaces the scenario's
 * workload with a file (Mooncake or agent sessions). */
int dp_workload_build(const struct dp_scenario *sc, const char *trace_override,
                      struct dp_workload *w, struct dp_err *err);

/* Resolve a model or hardware name to a file: names look in the models
 * folder (DUALPATH_MODELS or the source tree's models/), paths relative to
 * the scenario's folder. */
int dp_model_load(struct dp_model *m, const char *ref, const char *dir, struct dp_err *err);
int dp_hw_load(struct dp_hw *hw, const char *ref, const char *dir, struct dp_err *err);

#endif
