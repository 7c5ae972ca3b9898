/* The hardware shim's platform: struct dp_platform_ops on CUDA GPUs, files
 * and (where present) RDMA, driven by a progress loop (DESIGN.md, "Hardware
 * shim").
 *
 * One GPU is one engine (--share-gpus lets several engines use one GPU, for
 * machines with fewer GPUs than the scenario has engines). Each engine has:
 *  - a pinned, mapped host arena: its DRAM buffer, in units of one KV block
 *    (all layers), filled by storage reads through its storage-NIC token
 *    bucket (store.h);
 *  - an HBM arena in the same units, for the KV of the requests it serves;
 *  - streams: KV copies on a low-priority stream, the model's own work
 *    (compute, collectives' stand-ins) on high-priority streams
 *    (cudaDeviceGetStreamPriorityRange); with traffic isolation off, KV
 *    copies ride the high-priority stream too;
 *  - compute sized from the model: cuBLAS bf16 GEMMs carrying the cost
 *    model's FLOPs (prefill) or active-weight bytes (decode), plus an
 *    attention pass that reads every KV block the step uses and verifies
 *    its content (kvfill.h), so a block that arrives wrong or never is
 *    counted.
 * Moves between engines use peer copies (NVLink) or, on one GPU, device
 * copies; host buffers are read by the GPU directly (mapped memory) with
 * the batched gather kernel (blockcopy.h). */
#ifndef DP_HW_PLATFORM_CUDA_H
#define DP_HW_PLATFORM_CUDA_H

#include <signal.h>
#include <stdint.h>

#include "core/core.h"

struct dp_hwplat_opts {
    const char *store_dir;   /* the block store's folder */
    uint32_t block_tokens;   /* tokens per KV block (0 = the scenario's) */
    int share_gpus;          /* 1: engines may share GPUs (round robin) */
    double hbm_gib;          /* KV arena per engine; 0 = split the free HBM */
    double dram_gib;         /* pinned DRAM arena per engine; 0 = from the scenario */
    int io_threads;          /* storage reader/writer threads */
    double max_wall_s;       /* stop with an error after this long (0 = never) */
    int verify;              /* attention pass checks KV content */
    int progress;            /* a progress line on stderr */
};

struct dp_hwplat_stats {
    uint64_t slices_checked;     /* (block, layer) slices the attention pass verified */
    uint64_t slices_bad;         /* of those, wrong or missing */
    uint64_t blocks_read, blocks_written;
    uint64_t ops_failed;         /* ops that failed alone (their requests failed or retried) */
    char op_failure[200];        /* the first of those failures, or "" */
    uint64_t gemm_calls, kernels;
    /* compute ops' GPU time (event to event) beside the cost model's time
     * for the same op on the same engine (what the simulator would take) */
    uint64_t prefill_n, decode_n;
    double prefill_gpu_s, prefill_model_s, decode_gpu_s, decode_model_s;
    double wall_s;
    int ngpu;
    char gpu[128];
};

struct dp_hwplat;
extern const struct dp_platform_ops dp_hw_ops;

/* Check the machine against the scenario (GPUs, HBM, DRAM, store) and
 * allocate everything; errors are one line in err. */
int dp_hwplat_create(struct dp_hwplat **out, const struct dp_scenario *sc,
                     const struct dp_hwplat_opts *o, struct dp_err *err);
/* Free everything (NULL is fine). 0, or the first CUDA failure of the
 * teardown itself (a fault that surfaced only then), described in err. */
int dp_hwplat_destroy(struct dp_hwplat *p, struct dp_err *err);
void dp_hwplat_attach(struct dp_hwplat *p, struct dp_core *core);
/* Run until the core is done; DP_EINTR when *interrupt was set. */
int dp_hwplat_loop(struct dp_hwplat *p, volatile sig_atomic_t *interrupt, struct dp_err *err);
/* The run's statistics, read after every device has drained: a CUDA fault
 * there fails (DP_EIO with CUDA's message), never reads as "0 wrong". */
int dp_hwplat_stats(struct dp_hwplat *p, struct dp_hwplat_stats *s, struct dp_err *err);
/* The engines' link bandwidths as the run used them (for the report). */
void dp_hwplat_caps(const struct dp_hwplat *p, uint32_t engine, double *snic, double *cnic,
                    double *pcie);

/* Time the compute stand-ins alone on GPU 0 (prefill layers of several
 * sizes, decode steps' weight reads) beside the cost model: name=value
 * lines on out. */
int dp_hwplat_probe(const struct dp_scenario *sc, FILE *out, struct dp_err *err);

#endif
