/* Model and hardware descriptions, and the cost model built on them.
 *
 * Pure data and pure functions: nothing here allocates, reads files or keeps
 * state. The YAML files beside this header (models/NAME.yaml, models/hw/NAME.yaml)
 * are loaded by core/config into these structs.
 *
 * Units: bytes, seconds as double for rates, nanoseconds (uint64) for times.
 */
#ifndef DP_MODEL_H
#define DP_MODEL_H

#include <stdint.h>

enum dp_attn_kind { DP_ATTN_MHA = 0, DP_ATTN_GQA = 1, DP_ATTN_MLA = 2 };

struct dp_model {
    char name[64];
    uint32_t n_layers;
    uint32_t hidden;            /* d_model */
    enum dp_attn_kind attn;
    uint32_t n_heads;           /* query heads */
    uint32_t n_kv_heads;        /* GQA/MHA: KV heads; MLA: unused */
    uint32_t head_dim;          /* GQA/MHA: per-head dim of K and V */
    uint32_t qk_head_dim;       /* MLA: q/k per-head dim (nope + rope); GQA: = head_dim */
    uint32_t v_head_dim;        /* MLA: v per-head dim; GQA: = head_dim */
    uint32_t kv_lora_rank;      /* MLA: compressed KV latent width */
    uint32_t qk_rope_dim;       /* MLA: decoupled rope key width */
    double kv_dtype_bytes;      /* bytes per KV element (2 bf16, 1 fp8) */
    double weight_dtype_bytes;  /* bytes per weight element */
    double params_total;        /* parameters, all experts */
    double params_active;       /* parameters touched per token */
    uint32_t n_experts;         /* routed experts per MoE layer; 0 = dense */
    uint32_t experts_per_token; /* top-k */
    double a2a_bytes_per_elem;  /* all-to-all element size (dispatch+combine avg) */
    uint32_t max_context;       /* tokens */
};

struct dp_hw {
    char name[64];
    /* one GPU */
    double gpu_flops;           /* dense bf16 FLOP/s, datasheet */
    double gpu_hbm_bytes;       /* HBM capacity */
    double gpu_hbm_bw;          /* HBM bytes/s */
    double mfu;                 /* achieved fraction of gpu_flops in prefill */
    double mbu;                 /* achieved fraction of gpu_hbm_bw in decode */
    double pcie_bw;             /* host<->GPU bytes/s per GPU, each direction */
    /* one node */
    uint32_t gpus_per_node;
    uint32_t cnics_per_node;    /* compute NICs (RDMA) */
    double cnic_bw;             /* bytes/s per compute NIC, each direction */
    double snic_bw;             /* storage NIC bytes/s per node, each direction */
    double dram_buffer_bytes;   /* host DRAM set aside for KV buffers per node */
    /* the storage system */
    double storage_read_bw;     /* aggregate backend read bytes/s (0 = unbounded) */
    double storage_write_bw;    /* aggregate backend write bytes/s (0 = unbounded) */
    /* fixed per-step costs (kernel launches, scheduling) */
    double step_overhead_s;
};

/* One engine: a group of GPUs serving as one prefill or decode instance. */
struct dp_engine_hw {
    uint32_t gpus;
    double flops;               /* gpus * gpu_flops * mfu */
    double hbm_bw;              /* gpus * gpu_hbm_bw * mbu */
    double hbm_bytes;           /* gpus * gpu_hbm_bytes */
    double pcie_bw;             /* gpus * pcie_bw */
    double cnic_bw;             /* per engine, each direction */
    double snic_bw;             /* per engine, each direction */
    double dram_bytes;          /* KV buffer in host DRAM */
    double step_overhead_s;
    double a2a_cross_fraction;  /* share of all-to-all bytes that leave a node */
};

/* Derive an engine of `gpus` GPUs (which may span nodes, or share one). */
void dp_engine_hw_from(struct dp_engine_hw *e, const struct dp_hw *hw, uint32_t gpus);

/* KV-Cache size. */
double dp_kv_bytes_per_token_layer(const struct dp_model *m);
double dp_kv_bytes_per_token(const struct dp_model *m);

/* Weights held by one GPU when the model is spread over `gpus` GPUs. */
double dp_weight_bytes_per_gpu(const struct dp_model *m, uint32_t gpus);

/* A prefill batch as the cost model sees it: sums over its requests. */
struct dp_prefill_shape {
    uint64_t new_tokens;        /* sum of n_i (tokens computed) */
    double attn_pairs;          /* sum of n_i * (c_i + (n_i + 1) / 2): query-key pairs */
    double cached_tokens;       /* sum of c_i: cached KV the attention reads */
};
void dp_prefill_shape_add(struct dp_prefill_shape *s, uint64_t n_new, uint64_t n_cached);

/* FLOPs of one layer of prefill for the batch (dense/MoE GEMMs + attention). */
double dp_prefill_layer_flops(const struct dp_model *m, const struct dp_prefill_shape *s);
/* Bytes one layer of prefill reads from HBM: the weights its tokens touch
 * (all experts a batch routes to) and the cached KV its attention reads. */
double dp_prefill_layer_bytes(const struct dp_model *m, const struct dp_prefill_shape *s);
/* Time of one layer of prefill on an engine, ns: the roofline
 * max(FLOPs / FLOP/s, bytes / HBM bandwidth), plus the step overhead spread
 * over the layers. Small batches of MoE models are bound by weight reads. */
uint64_t dp_prefill_layer_ns(const struct dp_model *m, const struct dp_engine_hw *e,
                             const struct dp_prefill_shape *s);

/* Time of one decode step (all layers) for `batch` requests whose contexts
 * sum to `ctx_tokens`, ns: max(HBM traffic, FLOPs) plus step overhead. */
uint64_t dp_decode_step_ns(const struct dp_model *m, const struct dp_engine_hw *e,
                           uint32_t batch, uint64_t ctx_tokens);

/* Bytes of expert-parallel all-to-all (dispatch + combine) one layer sends
 * over the compute network for `tokens` tokens; 0 for dense models or
 * engines within one node. */
double dp_a2a_layer_bytes(const struct dp_model *m, const struct dp_engine_hw *e,
                          uint64_t tokens);

#endif
