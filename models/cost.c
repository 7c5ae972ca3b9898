/* The cost model: KV sizes, engine derivation, prefill and decode times.
 *
 * Every formula here is written out as math in models/README.md; keep the
 * two in step. Nothing here allocates or keeps state.
 */
#include "models/model.h"

#include <math.h>
#include <stdint.h>

/* Seconds (as double) to whole nanoseconds, rounded to nearest. Work that
 * exists never takes 0 ns: the event queue would otherwise see a compute
 * finish at the instant it started and could loop without time advancing. */
static uint64_t dp_secs_to_ns(double s)
{
    if (!(s > 0.0))
        return 1;
    double ns = floor(s * 1e9 + 0.5);
    if (ns < 1.0)
        return 1;
    if (ns >= 1.8e19) /* beyond uint64: clamp rather than wrap */
        return UINT64_MAX;
    return (uint64_t)ns;
}

/* ---------------------------------------------------------------- engine */

void dp_engine_hw_from(struct dp_engine_hw *e, const struct dp_hw *hw, uint32_t gpus)
{
    /* A description that forgot gpus_per_node is read as one GPU per node,
     * never as a division by zero. */
    double g = (double)gpus;
    double gpn = hw->gpus_per_node ? (double)hw->gpus_per_node : 1.0;

    e->gpus = gpus;
    e->flops = g * hw->gpu_flops * hw->mfu;
    e->hbm_bw = g * hw->gpu_hbm_bw * hw->mbu;
    e->hbm_bytes = g * hw->gpu_hbm_bytes;
    e->pcie_bw = g * hw->pcie_bw;
    /* NICs and the DRAM buffer belong to the node; an engine gets the share
     * of them its GPUs hold, so half a node gets half the storage NIC and
     * two nodes get two. */
    e->cnic_bw = g * ((double)hw->cnics_per_node * hw->cnic_bw / gpn);
    e->snic_bw = g * (hw->snic_bw / gpn);
    e->dram_bytes = g * (hw->dram_buffer_bytes / gpn);
    e->step_overhead_s = hw->step_overhead_s;
    /* Even all-to-all among the engine's GPUs: of each GPU's peers, the
     * gpus_per_node on its own node (itself included) are reached over
     * NVLink, the rest over the compute NICs. */
    e->a2a_cross_fraction = (gpus <= hw->gpus_per_node || gpus == 0)
                                ? 0.0
                                : 1.0 - gpn / g;
}

/* -------------------------------------------------------------- KV sizes */

double dp_kv_bytes_per_token_layer(const struct dp_model *m)
{
    if (m->attn == DP_ATTN_MLA) /* one latent plus one decoupled rope key */
        return ((double)m->kv_lora_rank + (double)m->qk_rope_dim) * m->kv_dtype_bytes;
    /* GQA/MHA: one K and one V of head_dim per KV head */
    return 2.0 * (double)m->n_kv_heads * (double)m->head_dim * m->kv_dtype_bytes;
}

double dp_kv_bytes_per_token(const struct dp_model *m)
{
    return dp_kv_bytes_per_token_layer(m) * (double)m->n_layers;
}

double dp_weight_bytes_per_gpu(const struct dp_model *m, uint32_t gpus)
{
    if (gpus == 0)
        return 0.0;
    return m->params_total * m->weight_dtype_bytes / (double)gpus;
}

/* --------------------------------------------------------------- prefill */

void dp_prefill_shape_add(struct dp_prefill_shape *s, uint64_t n_new, uint64_t n_cached)
{
    /* Causal attention: new token i (1..n) sees the c cached tokens and the
     * i new ones up to itself, so sum_i (c + i) = n*c + n(n+1)/2. */
    double n = (double)n_new;
    s->new_tokens += n_new;
    s->attn_pairs += n * ((double)n_cached + (n + 1.0) / 2.0);
    s->cached_tokens += (double)n_cached;
}

/* FLOPs per query-key pair in one layer, all heads: QK^T over qk_head_dim and
 * AV over v_head_dim, 2 FLOPs per multiply-add. For MLA this is the
 * non-absorbed form prefill uses (K and V expanded per head). */
static double dp_attn_flops_per_pair(const struct dp_model *m)
{
    return 2.0 * (double)m->n_heads * ((double)m->qk_head_dim + (double)m->v_head_dim);
}

/* GEMM FLOPs per token per layer. All active parameters, embeddings and the
 * LM head included, are taken as spread evenly over the layers: the head and
 * embeddings are ~2-5% of active parameters, and spreading them keeps every
 * layer the same so layerwise prefill needs no special first/last layer. */
static double dp_gemm_flops_per_token_layer(const struct dp_model *m)
{
    if (m->n_layers == 0)
        return 0.0;
    return 2.0 * m->params_active / (double)m->n_layers;
}

double dp_prefill_layer_flops(const struct dp_model *m, const struct dp_prefill_shape *s)
{
    return dp_gemm_flops_per_token_layer(m) * (double)s->new_tokens
           + dp_attn_flops_per_pair(m) * s->attn_pairs;
}

static double dp_decode_weight_bytes(const struct dp_model *m, uint32_t batch);

double dp_prefill_layer_bytes(const struct dp_model *m, const struct dp_prefill_shape *s)
{
    uint32_t tokens = s->new_tokens > UINT32_MAX ? UINT32_MAX : (uint32_t)s->new_tokens;
    double weights = m->n_layers ? dp_decode_weight_bytes(m, tokens) / (double)m->n_layers : 0;
    return weights + s->cached_tokens * dp_kv_bytes_per_token_layer(m);
}

uint64_t dp_prefill_layer_ns(const struct dp_model *m, const struct dp_engine_hw *e,
                             const struct dp_prefill_shape *s)
{
    if (s->new_tokens == 0)
        return 0;
    double t_cmp = dp_prefill_layer_flops(m, s) / e->flops;
    double t_mem = dp_prefill_layer_bytes(m, s) / e->hbm_bw;
    double t = t_cmp > t_mem ? t_cmp : t_mem;
    /* The per-forward overhead is spread over the layers so that a whole
     * prefill costs it once, as a whole decode step does. */
    if (m->n_layers > 0)
        t += e->step_overhead_s / (double)m->n_layers;
    return dp_secs_to_ns(t);
}

/* ---------------------------------------------------------------- decode */

/* Expected share of routed experts that at least one of `batch` tokens
 * selects, each token picking k of E experts uniformly:
 *   f = 1 - (1 - k/E)^batch.
 * It is k/E at batch 1 (weights read = params_active) and tends to 1; unlike
 * min(1, batch*k/E) it counts the overlap between tokens' choices. */
static double dp_expert_touch_fraction(const struct dp_model *m, uint32_t batch)
{
    double p = (double)m->experts_per_token / (double)m->n_experts;
    if (p >= 1.0)
        return 1.0;
    return 1.0 - pow(1.0 - p, (double)batch);
}

/* Weight bytes one decode step reads from HBM. With D the non-routed
 * parameters (attention, shared experts, dense layers, embeddings) and R all
 * routed-expert parameters,
 *   params_total = D + R,  params_active = D + R*k/E,
 * so R = (params_total - params_active) / (1 - k/E), and a step reads
 * D + R*f parameters. A dense model reads params_total. */
static double dp_decode_weight_bytes(const struct dp_model *m, uint32_t batch)
{
    double params = m->params_total;
    if (m->n_experts > 0 && m->experts_per_token < m->n_experts) {
        double p = (double)m->experts_per_token / (double)m->n_experts;
        double routed = (m->params_total - m->params_active) / (1.0 - p);
        double shared = m->params_total - routed;
        params = shared + routed * dp_expert_touch_fraction(m, batch);
    }
    return params * m->weight_dtype_bytes;
}

uint64_t dp_decode_step_ns(const struct dp_model *m, const struct dp_engine_hw *e,
                           uint32_t batch, uint64_t ctx_tokens)
{
    if (batch == 0)
        return 0;
    double ctx = (double)ctx_tokens;
    double bytes = dp_decode_weight_bytes(m, batch) + ctx * dp_kv_bytes_per_token(m);
    /* One new token per request: GEMMs over the active parameters, and each
     * new token attends to its request's whole context. */
    double flops = 2.0 * m->params_active * (double)batch
                   + dp_attn_flops_per_pair(m) * ctx * (double)m->n_layers;
    double t_mem = bytes / e->hbm_bw;
    double t_cmp = flops / e->flops;
    return dp_secs_to_ns((t_mem > t_cmp ? t_mem : t_cmp) + e->step_overhead_s);
}

/* ---------------------------------------------------------- all-to-all */

double dp_a2a_layer_bytes(const struct dp_model *m, const struct dp_engine_hw *e,
                          uint64_t tokens)
{
    if (m->n_experts == 0)
        return 0.0;
    /* Each token's hidden vector goes to each of its k experts (dispatch)
     * and comes back (combine); only the cross-node share uses the CNICs. */
    return (double)tokens * (double)m->experts_per_token * (double)m->hidden
           * m->a2a_bytes_per_elem * 2.0 * e->a2a_cross_fraction;
}
