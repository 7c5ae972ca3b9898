/* The sweep: section of a scenario (capacity planning): which scenario
 * values to vary, and the question to answer about them.
 *
 *   sweep:
 *     vary:                          # a grid: every combination, first key slowest
 *       cluster.prefill_engines: [1, 2, 4]
 *       cluster.decode_engines: {from: 1, to: 8, step: 1}
 *       hardware.snic_bw: {from: 12.5e9, to: 100e9, factor: 2}
 *       policy.name: [basic, dualpath]
 *     together:                      # keys that change in lockstep (one axis)
 *       cluster.prefill_engines: [1, 2, 3]
 *       cluster.decode_engines: [3, 2, 1]
 *     goal:
 *       kind: max_rate               # grid (default) | max_rate | min_gpus
 *       slo_attainment: 0.99         # "within SLO": this share of requests meets both SLOs
 *       rate_key: workload.synthetic.rate    # max_rate: the value searched
 *       rate_lo: 0.5
 *       rate_hi: 64
 *       tolerance: 0.05              # relative
 *
 * Any scenario key can be varied (the names of `--set`), plus two
 * planning keys that set the prefill/decode split:
 *   cluster.engines    total engines (prefill + decode)
 *   cluster.pd_ratio   "P:D", e.g. "1:3"; the split of the total
 * A configuration is one combination of values; a point is one simulation
 * (a configuration, and for max_rate one probed rate). */
#ifndef DP_SWEEP_SPEC_H
#define DP_SWEEP_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/errors.h"
#include "core/scenario.h"

#define DP_SWEEP_MAX_KEYS 16
#define DP_SWEEP_MAX_CONFIGS 100000
#define DP_SWEEP_TEXT 2048          /* a point's overrides, "key=value\n" lines */

enum dp_goal_kind { DP_GOAL_GRID = 0, DP_GOAL_MAX_RATE = 1, DP_GOAL_MIN_GPUS = 2 };

struct dp_sweep_goal {
    enum dp_goal_kind kind;
    double slo_attainment;      /* a point meets the SLO when attainment >= this */
    char rate_key[128];         /* max_rate */
    double rate_lo, rate_hi, tolerance;
    int rate_integer;           /* the key holds an integer (e.g. agents) */
};

struct dp_sweep_key {
    char name[128];
    uint32_t line;              /* where it is written */
    uint32_t axis;
    uint32_t n;
    char **values;              /* owned: n strings, as applied with dp_scenario_set */
};

struct dp_sweep_spec {
    char file[512];
    uint32_t line;              /* of sweep: */
    struct dp_sweep_key keys[DP_SWEEP_MAX_KEYS];
    uint32_t n_keys;
    uint32_t n_axes;
    uint32_t axis_len[DP_SWEEP_MAX_KEYS];
    uint64_t n_configs;
    struct dp_sweep_goal goal;
};

/* Parse the sweep: section of sc->file against the loaded scenario sc (each
 * value is checked by setting it on a copy). A scenario without one is an
 * error that says how to add it. Free with dp_sweep_spec_free. */
int dp_sweep_spec_load(struct dp_sweep_spec *sp, const struct dp_scenario *sc,
                       struct dp_err *err);
void dp_sweep_spec_free(struct dp_sweep_spec *sp);

/* The value index of key k in configuration c. */
uint32_t dp_sweep_value_index(const struct dp_sweep_spec *sp, uint64_t c, uint32_t k);

/* A point's overrides as "key=value\n" lines: configuration c's values in
 * the order written (the planning keys resolved to prefill/decode engine
 * counts against base), then rate_text for the goal's rate key if given. */
int dp_sweep_point_text(const struct dp_sweep_spec *sp, const struct dp_scenario *base,
                        uint64_t c, const char *rate_text, char *buf, size_t len,
                        struct dp_err *err);
/* Apply "key=value\n" lines to sc (a copy of the base scenario), then validate. */
int dp_sweep_apply(struct dp_scenario *sc, const char *text, struct dp_err *err);
/* Identity of a resolved point (the journal's key): a 64-bit hash of every
 * resolved key and of the running program, so a rebuilt simulator never
 * reuses results journaled by another build. */
uint64_t dp_sweep_hash(const struct dp_scenario *sc);
/* GPUs a resolved scenario uses. */
uint32_t dp_sweep_gpus(const struct dp_scenario *sc);
/* The units of a scenario key's values ("agents/s" for
 * workload.synthetic.rate, "bytes/s" for a bandwidth, ...), for the table's
 * headers and column attributes; "see dualpath keys" when not known. */
const char *dp_sweep_key_units(const char *key);
/* "key=value key=value" of configuration c (for messages). */
void dp_sweep_config_label(const struct dp_sweep_spec *sp, uint64_t c, char *buf, size_t len);

#endif
