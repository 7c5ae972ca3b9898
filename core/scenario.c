#include "core/scenario.h"
#include "core/policy.h"

#include <gsl/gsl_rng.h>

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BIG 1e300
#define SEC(p) { .path = p, .type = DP_CFG_SECTION }
#define U32(p, T, m, lo, hi, h) { .path = p, .type = DP_CFG_U32, .offset = offsetof(T, m), .min = lo, .max = hi, .help = h }
#define U64(p, T, m, lo, hi, h) { .path = p, .type = DP_CFG_U64, .offset = offsetof(T, m), .min = lo, .max = hi, .help = h }
#define F64(p, T, m, lo, hi, h) { .path = p, .type = DP_CFG_F64, .offset = offsetof(T, m), .min = lo, .max = hi, .help = h }
/* strictly positive: bandwidths, capacities */
#define POS(p, T, m, h) { .path = p, .type = DP_CFG_F64, .offset = offsetof(T, m), .min = 0, .max = BIG, .min_exclusive = 1, .help = h }
/* A link's bytes/s: above 1 PB/s it is a typo, and far above it the flow
 * model's byte counts lose whole transfers to rounding (fuzzing found it). */
#define MAX_BW 1e15
#define BW(p, T, m, h) { .path = p, .type = DP_CFG_F64, .offset = offsetof(T, m), .min = 0, .max = MAX_BW, .min_exclusive = 1, .help = h }
#define BOOL(p, T, m, h) { .path = p, .type = DP_CFG_BOOL, .offset = offsetof(T, m), .help = h }
#define STR(p, T, m, h) { .path = p, .type = DP_CFG_STR, .offset = offsetof(T, m), .size = sizeof(((T *)0)->m), .help = h }
#define ENUM(p, T, m, n, h) { .path = p, .type = DP_CFG_ENUM, .offset = offsetof(T, m), .names = n, .help = h }
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- model files ---------------------------------------------------- */

static const char *const attn_names[] = { "mha", "gqa", "mla", NULL };

#define M struct dp_model
static const struct dp_cfg_field model_fields[] = {
    STR("name", M, name, "model name"),
    U32("n_layers", M, n_layers, 1, 4096, "transformer layers"),
    U32("hidden", M, hidden, 1, 1 << 20, "d_model"),
    ENUM("attn", M, attn, attn_names, "attention kind"),
    U32("n_heads", M, n_heads, 1, 65536, "query heads"),
    U32("n_kv_heads", M, n_kv_heads, 0, 65536, "KV heads (GQA/MHA)"),
    U32("head_dim", M, head_dim, 0, 65536, "per-head dim (GQA/MHA)"),
    U32("qk_head_dim", M, qk_head_dim, 0, 65536, "q/k per-head dim"),
    U32("v_head_dim", M, v_head_dim, 0, 65536, "v per-head dim"),
    U32("kv_lora_rank", M, kv_lora_rank, 0, 65536, "MLA latent width"),
    U32("qk_rope_dim", M, qk_rope_dim, 0, 65536, "MLA rope key width"),
    { .path = "kv_dtype_bytes", .type = DP_CFG_F64, .offset = offsetof(M, kv_dtype_bytes), .min = 0, .max = 64, .min_exclusive = 1, .help = "bytes per KV element" },
    { .path = "weight_dtype_bytes", .type = DP_CFG_F64, .offset = offsetof(M, weight_dtype_bytes), .min = 0, .max = 64, .min_exclusive = 1, .help = "bytes per weight" },
    POS("params_total", M, params_total, "parameters"),
    POS("params_active", M, params_active, "parameters per token"),
    U32("n_experts", M, n_experts, 0, 1 << 20, "routed experts"),
    U32("experts_per_token", M, experts_per_token, 0, 1 << 20, "top-k"),
    F64("a2a_bytes_per_elem", M, a2a_bytes_per_elem, 0, 16, "all-to-all element bytes"),
    U32("max_context", M, max_context, 1, UINT32_MAX, "tokens"),
};
#undef M
static const struct dp_cfg_schema model_schema = { model_fields, N(model_fields) };

#define H struct dp_hw
static const struct dp_cfg_field hw_fields[] = {
    STR("name", H, name, "hardware name"),
    POS("gpu_flops", H, gpu_flops, "dense bf16 FLOP/s per GPU"),
    POS("gpu_hbm_bytes", H, gpu_hbm_bytes, "bytes of HBM per GPU"),
    POS("gpu_hbm_bw", H, gpu_hbm_bw, "HBM bytes/s per GPU"),
    { .path = "mfu", .type = DP_CFG_F64, .offset = offsetof(H, mfu), .min = 0, .max = 1, .min_exclusive = 1, .help = "achieved fraction of FLOP/s" },
    { .path = "mbu", .type = DP_CFG_F64, .offset = offsetof(H, mbu), .min = 0, .max = 1, .min_exclusive = 1, .help = "achieved fraction of HBM bandwidth" },
    BW("pcie_bw", H, pcie_bw, "host<->GPU bytes/s per GPU"),
    U32("gpus_per_node", H, gpus_per_node, 1, 1024, "GPUs per node"),
    U32("cnics_per_node", H, cnics_per_node, 1, 1024, "compute NICs per node"),
    BW("cnic_bw", H, cnic_bw, "bytes/s per compute NIC"),
    BW("snic_bw", H, snic_bw, "storage NIC bytes/s per node"),
    POS("dram_buffer_bytes", H, dram_buffer_bytes, "host DRAM KV buffer per node"),
    F64("storage_read_bw", H, storage_read_bw, 0, MAX_BW, "aggregate storage read bytes/s, 0 = unbounded"),
    F64("storage_write_bw", H, storage_write_bw, 0, MAX_BW, "aggregate storage write bytes/s, 0 = unbounded"),
    F64("step_overhead_s", H, step_overhead_s, 0, 10, "fixed seconds per step"),
};
#undef H
static const struct dp_cfg_schema hw_schema = { hw_fields, N(hw_fields) };

/* ---- scenario ----------------------------------------------------- */

static int model_node(void *obj, const struct dp_cfg_field *f, const char *file,
                      yaml_document_t *doc, yaml_node_t *node, struct dp_err *err);
static int hw_node(void *obj, const struct dp_cfg_field *f, const char *file,
                   yaml_document_t *doc, yaml_node_t *node, struct dp_err *err);

/* sweep: is parsed by the sweep command from the same file (sim/sweep.c);
 * here it is only noted, so a scenario with a sweep also runs alone. */
static int sweep_node(void *obj, const struct dp_cfg_field *f, const char *file,
                      yaml_document_t *doc, yaml_node_t *node, struct dp_err *err)
{
    struct dp_scenario *sc = obj;
    if (node->type != YAML_MAPPING_NODE)
        return dp_err_set(err, DP_EINVAL, "%s:%lu: field 'sweep': expected a mapping",
                          file, (unsigned long)node->start_mark.line + 1);
    sc->sweep_line = (uint32_t)node->start_mark.line + 1;
    return 0;
}

static const char *const wl_names[] = { "synthetic", "trace", NULL };
static const char *const replay_names[] = { "auto", "closed", "open", NULL };
static const char *const sel_names[] = { "least_loaded", "round_robin", NULL };

#define S struct dp_scenario
#define SY(p, m, lo, hi, h) F64("workload.synthetic." p, S, workload.synthetic.m, lo, hi, h)
static const struct dp_cfg_field sc_fields[] = {
    STR("name", S, name, "scenario name"),
    U64("seed", S, seed, 0, 0, "random seed"),
    { .path = "model", .type = DP_CFG_CUSTOM, .custom = model_node,
      .help = "a model name (models/NAME.yaml), a path, or a mapping with base: and overrides" },
    { .path = "hardware", .type = DP_CFG_CUSTOM, .custom = hw_node,
      .help = "a hardware name (models/hw/NAME.yaml), a path, or a mapping with base: and overrides" },
    { .path = "sweep", .type = DP_CFG_CUSTOM, .custom = sweep_node,
      .help = "capacity planning: values to sweep and a goal (scenarios/README.md)" },
    SEC("cluster"),
    U32("cluster.prefill_engines", S, cluster.prefill_engines, 1, 1 << 20, "prefill engines"),
    U32("cluster.decode_engines", S, cluster.decode_engines, 1, 1 << 20, "decode engines"),
    U32("cluster.prefill_gpus", S, cluster.prefill_gpus, 1, 4096, "GPUs per prefill engine"),
    U32("cluster.decode_gpus", S, cluster.decode_gpus, 1, 4096, "GPUs per decode engine"),
    SEC("workload"),
    ENUM("workload.kind", S, workload.kind, wl_names, "synthetic or trace"),
    STR("workload.trace", S, workload.trace, "trace file (Mooncake, sessions, Qwen-Bailian, Dynamo agentic)"),
    ENUM("workload.format", S, workload.format, dp_trace_format_names, "trace format (auto: by its fields)"),
    U32("workload.hash_block", S, workload.hash_block, 0, 1 << 20, "tokens per trace hash id (0: the format's own)"),
    ENUM("workload.replay", S, workload.replay, replay_names, "trace: closed (dependencies) or open (timestamps)"),
    U32("workload.block_tokens", S, workload.block_tokens, 1, 1 << 20, "tokens per KV block"),
    { .path = "workload.time_scale", .type = DP_CFG_F64, .offset = offsetof(S, workload.time_scale), .min = 0, .max = 1e6, .min_exclusive = 1, .help = "multiplies arrival times (think times kept)" },
    F64("workload.rate", S, workload.rate, 0, 1e9, "arrivals per second over the trace's span (0: as recorded)"),
    U64("workload.limit", S, workload.limit, 0, 0, "replay the first N trace records (0 = all)"),
    SEC("workload.synthetic"),
    U32("workload.synthetic.agents", S, workload.synthetic.agents, 0, 100000000, "offline agents"),
    SY("rate", rate, 0, 1e9, "online agents per second (0 = offline)"),
    SY("duration_s", duration_s, 0, 1e9, "online: seconds of arrivals"),
    SY("turns_mean", turns_mean, 1, 1e6, "mean turns per session"),
    SY("turns_cv", turns_cv, 0, 100, "coefficient of variation of turns (1 ~ geometric)"),
    U32("workload.synthetic.turns_max", S, workload.synthetic.turns_max, 1, 1000000, "max turns"),
    SY("prompt_tokens_mean", prompt_tokens_mean, 1, 1e9, "initial context tokens"),
    SY("prompt_tokens_cv", prompt_tokens_cv, 0, 100, "coefficient of variation"),
    SY("append_tokens_mean", append_tokens_mean, 1, 1e9, "tokens appended per turn"),
    SY("append_tokens_cv", append_tokens_cv, 0, 100, "coefficient of variation"),
    SY("output_tokens_mean", output_tokens_mean, 1, 1e9, "tokens generated per turn"),
    SY("output_tokens_cv", output_tokens_cv, 0, 100, "coefficient of variation"),
    SY("think_s_mean", think_s_mean, 0, 1e9, "tool/think seconds between turns"),
    SY("think_s_cv", think_s_cv, 0, 100, "coefficient of variation"),
    U32("workload.synthetic.max_context", S, workload.synthetic.max_context, 1, UINT32_MAX, "tokens"),
    SY("start_spread_s", start_spread_s, 0, 1e9, "offline: agents start over this many seconds"),
    SEC("policy"),
    STR("policy.name", S, policy.name, "basic, dualpath, oracle"),
    ENUM("policy.pe_select", S, policy.pe_select, sel_names, "engine choice"),
    F64("policy.de_read_threshold", S, policy.de_read_threshold, 0, 1e6, "dualpath: see core/README.md"),
    BOOL("policy.split", S, policy.split, "dualpath: split one request's reads"),
    SEC("scheduler"),
    U32("scheduler.prefill_batch_tokens", S, sched.prefill_batch_tokens, 1, 1 << 30, "compute quota, tokens"),
    F64("scheduler.prefill_batch_ms", S, sched.prefill_batch_ms, 0, 1e9, "compute quota, ms (0 = none)"),
    U32("scheduler.decode_max_batch", S, sched.decode_max_batch, 1, 1 << 20, "requests per decode step"),
    U32("scheduler.prefetch_layers", S, sched.prefetch_layers, 1, 4096, "layer loads ahead of compute"),
    U32("scheduler.max_inflight_reads", S, sched.max_inflight_reads, 1, 1 << 20, "storage reads in flight per engine"),
    SEC("traffic"),
    BOOL("traffic.isolation", S, traffic.isolation, "KV traffic in the low-priority lane"),
    BOOL("traffic.overlap_a2a", S, traffic.overlap_a2a, "all-to-all overlapped with compute"),
    SEC("slo"),
    POS("slo.ttft_ms", S, slo.ttft_ms, "time to first token, ms"),
    POS("slo.tpot_ms", S, slo.tpot_ms, "time per output token, ms"),
    SEC("run"),
    /* bounded so that seconds * 1e9 stays a uint64 of ns, and a sample
     * period of 0 ns cannot stop the clock (fuzzing found both) */
    F64("run.sample_interval_s", S, run.sample_interval_s, 1e-3, 1e9, "time-series sampling period"),
    F64("run.max_time_s", S, run.max_time_s, 0, 1e9, "stop the clock here (0 = run to completion)"),
};
#undef S
static const struct dp_cfg_schema sc_schema = { sc_fields, N(sc_fields) };

const struct dp_cfg_schema *dp_scenario_schema(void) { return &sc_schema; }

void dp_scenario_defaults(struct dp_scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    snprintf(sc->name, sizeof sc->name, "unnamed");
    sc->seed = 1;
    sc->cluster.prefill_engines = 1;
    sc->cluster.decode_engines = 1;
    sc->cluster.prefill_gpus = 8;
    sc->cluster.decode_gpus = 8;
    sc->workload.kind = DP_WL_SYNTHETIC;
    sc->workload.block_tokens = 64;
    sc->workload.time_scale = 1.0;
    dp_synth_defaults(&sc->workload.synthetic);
    snprintf(sc->policy.name, sizeof sc->policy.name, "basic");
    sc->policy.pe_select = DP_SEL_LEAST_LOADED;
    sc->policy.de_read_threshold = 1.0;
    sc->policy.split = 1;
    sc->sched.prefill_batch_tokens = 16384;
    sc->sched.prefill_batch_ms = 0;
    sc->sched.decode_max_batch = 256;
    sc->sched.prefetch_layers = 2;
    sc->sched.max_inflight_reads = 8;
    sc->traffic.isolation = 1;
    sc->slo.ttft_ms = 10000;
    sc->slo.tpot_ms = 100;
    sc->run.sample_interval_s = 1.0;
    sc->run.max_time_s = 0;
}

/* ---- model and hardware resolution --------------------------------- */

static const char *models_dir(void)
{
    const char *e = getenv("DUALPATH_MODELS");
    return e && *e ? e : DP_MODELS_DIR;
}

/* A reference with a slash or a .yaml suffix is a path (relative to dir);
 * otherwise a name looked up as SUBDIR/lower(name).yaml in the models folder. */
static void resolve_ref(char *out, size_t len, const char *ref, const char *dir,
                        const char *subdir)
{
    size_t n = strlen(ref);
    if (strchr(ref, '/') || (n > 5 && !strcmp(ref + n - 5, ".yaml"))) {
        if (ref[0] == '/' || !dir || !*dir)
            snprintf(out, len, "%s", ref);
        else
            snprintf(out, len, "%s/%s", dir, ref);
        return;
    }
    char lower[128];
    size_t i;
    for (i = 0; i < sizeof lower - 1 && ref[i]; i++)
        lower[i] = (char)tolower((unsigned char)ref[i]);
    lower[i] = 0;
    snprintf(out, len, "%s/%s%s.yaml", models_dir(), subdir, lower);
}

static int load_ref(const struct dp_cfg_schema *schema, void *obj, size_t size,
                    const char *ref, const char *dir, const char *subdir, const char *what,
                    struct dp_err *err)
{
    char path[1024];
    resolve_ref(path, sizeof path, ref, dir, subdir);
    struct stat st;
    if (stat(path, &st) != 0)
        return dp_err_set(err, DP_ENOENT, "%s '%s': no such file %s", what, ref, path);
    memset(obj, 0, size);
    return dp_cfg_load_file(schema, obj, path, err);
}

int dp_model_load(struct dp_model *m, const char *ref, const char *dir, struct dp_err *err)
{
    return load_ref(&model_schema, m, sizeof *m, ref, dir, "", "model", err);
}

int dp_hw_load(struct dp_hw *hw, const char *ref, const char *dir, struct dp_err *err)
{
    return load_ref(&hw_schema, hw, sizeof *hw, ref, dir, "hw/", "hardware", err);
}

/* "model: NAME" or "model: {base: NAME, n_layers: 30, ...}" (likewise hardware). */
static int ref_node(void *obj, size_t size, char *ref, size_t ref_len,
                    const struct dp_cfg_schema *schema, const char *dir, const char *subdir,
                    const char *key, const char *file, yaml_document_t *doc,
                    yaml_node_t *node, struct dp_err *err)
{
    unsigned long line = node->start_mark.line + 1;
    char where[600];
    snprintf(where, sizeof where, "%s:%lu: field '%s'", file, line, key);

    if (node->type == YAML_SCALAR_NODE) {
        snprintf(ref, ref_len, "%s", (char *)node->data.scalar.value);
        int rc = load_ref(schema, obj, size, ref, dir, subdir, where, err);
        return rc;
    }
    if (node->type != YAML_MAPPING_NODE)
        return dp_err_set(err, DP_EINVAL, "%s: expected a name or a mapping", where);

    /* Find base: first, load it, then apply the other keys as overrides. */
    yaml_node_pair_t *pr;
    int have_base = 0;
    for (pr = node->data.mapping.pairs.start; pr < node->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(doc, pr->value);
        if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, "base")) {
            if (v->type != YAML_SCALAR_NODE)
                return dp_err_set(err, DP_EINVAL, "%s:%lu: field '%s.base': expected a name",
                                  file, (unsigned long)v->start_mark.line + 1, key);
            snprintf(ref, ref_len, "%s", (char *)v->data.scalar.value);
            int rc = load_ref(schema, obj, size, ref, dir, subdir, where, err);
            if (rc)
                return rc;
            have_base = 1;
        }
    }
    if (!have_base) {
        memset(obj, 0, size);
        snprintf(ref, ref_len, "inline");
    }
    /* Bind the remaining keys; 'base' is skipped by a schema-less check. */
    for (pr = node->data.mapping.pairs.start; pr < node->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(doc, pr->value);
        if (k->type != YAML_SCALAR_NODE)
            return dp_err_set(err, DP_EINVAL, "%s: keys must be plain words", where);
        const char *name = (char *)k->data.scalar.value;
        if (!strcmp(name, "base"))
            continue;
        const struct dp_cfg_field *f = dp_cfg_find(schema, name);
        char at[700];
        snprintf(at, sizeof at, "%s:%lu", file, (unsigned long)k->start_mark.line + 1);
        if (!f) {
            const char *hint = dp_cfg_suggest(schema, name);
            if (hint)
                return dp_err_set(err, DP_EINVAL, "%s: unknown key '%s.%s' (did you mean '%s.%s'?)",
                                  at, key, name, key, hint);
            return dp_err_set(err, DP_EINVAL, "%s: unknown key '%s.%s'", at, key, name);
        }
        if (v->type != YAML_SCALAR_NODE)
            return dp_err_set(err, DP_EINVAL, "%s: field '%s.%s': expected a single value",
                              at, key, name);
        int rc = dp_cfg_set_in(schema, obj, key, name, (char *)v->data.scalar.value, at, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int model_node(void *obj, const struct dp_cfg_field *f, const char *file,
                      yaml_document_t *doc, yaml_node_t *node, struct dp_err *err)
{
    struct dp_scenario *sc = obj;
    return ref_node(&sc->model, sizeof sc->model, sc->model_ref, sizeof sc->model_ref,
                    &model_schema, sc->dir, "", "model", file, doc, node, err);
}

static int hw_node(void *obj, const struct dp_cfg_field *f, const char *file,
                   yaml_document_t *doc, yaml_node_t *node, struct dp_err *err)
{
    struct dp_scenario *sc = obj;
    return ref_node(&sc->hw, sizeof sc->hw, sc->hw_ref, sizeof sc->hw_ref, &hw_schema,
                    sc->dir, "hw/", "hardware", file, doc, node, err);
}

int dp_scenario_load(struct dp_scenario *sc, const char *file, struct dp_err *err)
{
    dp_scenario_defaults(sc);
    snprintf(sc->file, sizeof sc->file, "%s", file);
    const char *slash = strrchr(file, '/');
    if (slash)
        snprintf(sc->dir, sizeof sc->dir, "%.*s", (int)(slash - file), file);
    else
        snprintf(sc->dir, sizeof sc->dir, ".");
    int rc = dp_cfg_load_file(&sc_schema, sc, file, err);
    if (rc)
        return rc;
    if (!sc->model_ref[0])
        return dp_err_set(err, DP_EINVAL, "%s: field 'model': missing (a name such as ds660b, ds27b, qwen32b)", file);
    if (!sc->hw_ref[0]) {
        /* the paper's Hopper node unless the scenario names one */
        snprintf(sc->hw_ref, sizeof sc->hw_ref, "hopper");
        rc = dp_hw_load(&sc->hw, sc->hw_ref, sc->dir, err);
        if (rc)
            return rc;
    }
    return dp_scenario_validate(sc, err);
}

int dp_scenario_set(struct dp_scenario *sc, const char *key, const char *value,
                    const char *origin, struct dp_err *err)
{
    if (!strcmp(key, "model")) {
        snprintf(sc->model_ref, sizeof sc->model_ref, "%s", value);
        return dp_model_load(&sc->model, value, sc->dir, err);
    }
    if (!strcmp(key, "hardware")) {
        snprintf(sc->hw_ref, sizeof sc->hw_ref, "%s", value);
        return dp_hw_load(&sc->hw, value, sc->dir, err);
    }
    if (!strncmp(key, "model.", 6))
        return dp_cfg_set_in(&model_schema, &sc->model, "model", key + 6, value, origin, err);
    if (!strncmp(key, "hardware.", 9))
        return dp_cfg_set_in(&hw_schema, &sc->hw, "hardware", key + 9, value, origin, err);
    int rc = dp_cfg_set(&sc_schema, sc, key, value, origin, err);
    /* a policy named on the command line is checked here, where its origin is known */
    if (!rc && !strcmp(key, "policy.name"))
        rc = dp_policy_check(sc->policy.name, origin, err);
    return rc;
}

int dp_scenario_validate(const struct dp_scenario *sc, struct dp_err *err)
{
    const char *f = sc->file[0] ? sc->file : "scenario";
    const struct dp_model *m = &sc->model;
    int rc = dp_policy_check(sc->policy.name, f, err);
    if (rc)
        return rc;
    if (m->attn == DP_ATTN_MLA && (m->kv_lora_rank == 0))
        return dp_err_set(err, DP_EINVAL, "%s: model '%s': field 'kv_lora_rank' must be > 0 for MLA",
                          f, m->name);
    if (m->attn != DP_ATTN_MLA && (m->n_kv_heads == 0 || m->head_dim == 0))
        return dp_err_set(err, DP_EINVAL, "%s: model '%s': fields 'n_kv_heads' and 'head_dim' must be > 0 for %s",
                          f, m->name, m->attn == DP_ATTN_GQA ? "GQA" : "MHA");
    if (m->params_active > m->params_total)
        return dp_err_set(err, DP_EINVAL, "%s: model '%s': params_active exceeds params_total", f, m->name);
    if (sc->workload.rate > 0 && sc->workload.time_scale != 1.0)
        return dp_err_set(err, DP_EINVAL, "%s: field 'workload.rate': give workload.rate or workload.time_scale, not both (rate sets the scale)", f);
    if (sc->workload.kind == DP_WL_TRACE && !sc->workload.trace[0])
        return dp_err_set(err, DP_EINVAL, "%s: field 'workload.trace': workload.kind is trace but no trace file is named", f);
    if (sc->workload.kind == DP_WL_SYNTHETIC && sc->workload.synthetic.rate == 0 &&
        sc->workload.synthetic.agents == 0)
        return dp_err_set(err, DP_EINVAL, "%s: field 'workload.synthetic.agents': 0 agents and rate 0: nothing to run", f);
    if (sc->workload.synthetic.rate > 0 && sc->workload.synthetic.duration_s <= 0)
        return dp_err_set(err, DP_EINVAL, "%s: field 'workload.synthetic.duration_s': must be > 0 when rate > 0", f);
    /* Byte counts are uint64: a request of up to 2^33 tokens (input and
     * output) must not overflow them with its KV or its share of the
     * all-to-all (fuzzing found casts out of range). */
    double a2a_tok = m->n_experts ? (double)m->experts_per_token * m->hidden *
                                        m->a2a_bytes_per_elem * 2.0 * m->n_layers : 0;
    double tok_bytes = dp_kv_bytes_per_token(m) + a2a_tok;
    if (!(tok_bytes <= 1e9))
        return dp_err_set(err, DP_ERANGE,
                          "%s: model '%s': %.3g bytes of KV and all-to-all per token; at most 1e9 "
                          "(check kv_dtype_bytes, head and layer counts)", f, m->name, tok_bytes);
    double engine_hbm = sc->hw.gpu_hbm_bytes * sc->cluster.prefill_gpus;
    double weights = m->params_total * m->weight_dtype_bytes;
    if (weights >= engine_hbm)
        return dp_err_set(err, DP_ERANGE,
                          "%s: field 'cluster.prefill_gpus': %u GPUs of %.0f GB hold %.0f GB, less than the model's %.0f GB of weights",
                          f, sc->cluster.prefill_gpus, sc->hw.gpu_hbm_bytes / 1e9, engine_hbm / 1e9, weights / 1e9);
    if (weights >= sc->hw.gpu_hbm_bytes * sc->cluster.decode_gpus)
        return dp_err_set(err, DP_ERANGE,
                          "%s: field 'cluster.decode_gpus': %u GPUs cannot hold the model's %.0f GB of weights",
                          f, sc->cluster.decode_gpus, weights / 1e9);
    return 0;
}

static int dump_schema(const struct dp_cfg_schema *s, const void *obj, const char *prefix,
                       char *buf, size_t len, size_t *used)
{
    for (size_t i = 0; i < s->n; i++) {
        char v[600];
        if (dp_cfg_get(s, obj, s->fields[i].path, v, sizeof v))
            continue;
        int k = snprintf(buf + *used, len - *used, "%s%s: %s\n", prefix, s->fields[i].path, v);
        if (k < 0 || (size_t)k >= len - *used)
            return DP_ERANGE;
        *used += (size_t)k;
    }
    return 0;
}

int dp_scenario_dump(const struct dp_scenario *sc, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    int k = snprintf(buf, len, "model: %s\nhardware: %s\n", sc->model_ref, sc->hw_ref);
    if (k < 0 || (size_t)k >= len)
        return DP_ERANGE;
    used = (size_t)k;
    int rc = dump_schema(&sc_schema, sc, "", buf, len, &used);
    if (!rc)
        rc = dump_schema(&model_schema, &sc->model, "model.", buf, len, &used);
    if (!rc)
        rc = dump_schema(&hw_schema, &sc->hw, "hardware.", buf, len, &used);
    return rc;
}

/* ---- the scenario's workload ---------------------------------------- */

static void resolve_path(char *out, size_t len, const char *dir, const char *path)
{
    if (path[0] == '/' || !dir[0])
        snprintf(out, len, "%s", path);
    else
        snprintf(out, len, "%s/%s", dir, path);
}

/* A trace as the scenario replays it: loaded in its format, open loop when
 * asked, hash ids in the scenario's block size. */
static int build_trace(const struct dp_scenario *sc, const char *path, struct dp_workload *w,
                       struct dp_err *err)
{
    struct dp_trace_opts o = { (enum dp_trace_format)sc->workload.format,
                               sc->workload.hash_block };
    int rc = dp_trace_load_opts(path, &o, w, err);
    if (rc)
        return rc;
    if (sc->workload.limit && w->n_sessions > sc->workload.limit)
        w->n_sessions = sc->workload.limit;
    if (!w->hash_tokens)
        w->block_tokens = sc->workload.block_tokens;   /* agent sessions: ids made here */
    if (sc->workload.replay == DP_REPLAY_OPEN && (rc = dp_workload_open_loop(w, err)))
        return rc;
    return dp_workload_rebloc(w, sc->workload.block_tokens, err);
}

int dp_workload_build(const struct dp_scenario *sc, const char *trace_override,
                      struct dp_workload *w, struct dp_err *err)
{
    int rc;
    if (trace_override || sc->workload.kind == DP_WL_TRACE) {
        char path[1100];
        if (trace_override)
            snprintf(path, sizeof path, "%s", trace_override);
        else
            resolve_path(path, sizeof path, sc->dir, sc->workload.trace);
        rc = build_trace(sc, path, w, err);
    } else {
        gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
        if (!rng)
            return dp_err_set(err, DP_ENOMEM, "out of memory");
        gsl_rng_set(rng, (unsigned long)sc->seed);
        dp_workload_init(w, sc->workload.block_tokens);
        rc = dp_synth_generate(&sc->workload.synthetic, rng, w, err);
        gsl_rng_free(rng);
        if (rc) {
            /* the generator names the parameter; say where it lives */
            char msg[sizeof err->msg];
            memcpy(msg, err->msg, sizeof msg);
            snprintf(err->msg, sizeof err->msg, "%.200s: %.300s", sc->file, msg);
        }
    }
    if (rc)
        return rc;
    /* Arrivals only: think and tool times after a dependency are kept, so a
     * closed-loop replay keeps its dependencies however it is compressed. */
    dp_workload_scale_time(w, sc->workload.rate > 0 ? dp_workload_rate_scale(w, sc->workload.rate)
                                                     : sc->workload.time_scale);
    return 0;
}
