/* The CUDA platform's compute (platform_cuda_impl.h): prefill layers and
 * decode steps as cuBLAS bf16 GEMMs sized from the cost model, the
 * attention pass that reads (and verifies) every KV block a step uses, the
 * compute scratch, the GPU time beside the cost model's, and the probe
 * (`dualpath hw run --probe-compute`). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/request.h"
#include "hw/kvcheck.h"
#include "hw/platform_cuda_impl.h"

/* reps x C[m x n] = A[m x k] B[k x n], bf16 in, fp32 accumulate. */
static int gemms(struct dp_hwplat *p, struct hw_engine *e, int m, int n, int k, void *b,
                 uint64_t reps)
{
    const float one = 1.0f, zero = 0.0f;
    for (uint64_t i = 0; i < reps; i++)
        if (HW_CUBLAS(p, cublasGemmEx(e->blas, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, e->ga,
                                      CUDA_R_16BF, m, b, CUDA_R_16BF, k, &zero, e->gc,
                                      CUDA_R_16BF, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)))
            return p->failed;
    p->st.gemm_calls += reps;
    return 0;
}

/* The layer's FLOPs (this GPU's share of the engine's) as GEMMs of the
 * batch's tokens through a hidden -> 4 x hidden projection (an FFN's shape;
 * the weights' stand-in is e->wts), capped so that C fits e->gc. */
static int prefill_gemms(struct dp_hwplat *p, struct hw_engine *e,
                         const struct dp_prefill_shape *shape)
{
    double flops = dp_prefill_layer_flops(&p->sc->model, shape) / e->gpus;
    int m = (int)(shape->new_tokens < HW_GEMM_ROWS ? shape->new_tokens : HW_GEMM_ROWS);
    m = m < 1 ? 1 : m;
    size_t n = 4 * e->g_k, cap = HW_WTS_BYTES / 2 / e->g_k;
    n = n < cap ? n : cap;
    cap = HW_WTS_BYTES / 2 / HW_GEMM_ROWS;
    n = n < cap ? n : cap;
    double per = 2.0 * m * (double)n * (double)e->g_k;
    return gemms(p, e, m, (int)n, (int)e->g_k, e->wts, (uint64_t)ceil(flops / per));
}

/* A step's weight traffic read by GEMMs of the batch's rows. Its bytes are
 * what the cost model charges the step without KV (a MoE step touches more
 * experts as the batch grows): that time, less the fixed step overhead, at
 * this GPU's share of the engine's HBM rate; at least the active weights.
 * C is m x n in the HW_WTS_BYTES output buffer: m <= g_k. */
static int decode_gemms(struct dp_hwplat *p, struct hw_engine *e, uint32_t batch)
{
    const struct dp_model *md = &p->sc->model;
    const struct dp_hw *hw = &p->sc->hw;
    double t = dp_decode_step_ns(md, &e->ehw, batch, 0) * 1e-9 - e->ehw.step_overhead_s;
    double wbytes = md->params_active * md->weight_dtype_bytes / e->gpus;
    if (t * hw->gpu_hbm_bw * hw->mbu > wbytes)
        wbytes = t * hw->gpu_hbm_bw * hw->mbu;
    int m = (int)(batch < e->g_k ? batch : e->g_k);
    int n = (int)(HW_WTS_BYTES / 2 / e->g_k);
    return gemms(p, e, m < 1 ? 1 : m, n, (int)e->g_k, e->wts,
                 (uint64_t)ceil(wbytes / HW_WTS_BYTES));
}

/* The attention pass: verify op's (ptr, tag) entries in HBM. */
static int attend(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e)
{
    if (!op->n || !p->o.verify)
        return 0;
    p->st.slices_checked += op->n;
    p->st.kernels++;
    return HW_CUDA(p, dp_kv_verify_dev((const void *const *)op->dst, op->tags, op->n, p->lb16,
                                       e->bad_d, e->s_comp));
}

/* One layer of prefill: GEMMs carrying the layer's FLOPs (this GPU's share
 * of the engine's), the attention pass over the batch's cached blocks of
 * the layer, then the layer's new KV written (filled) for the new blocks.
 * The HBM units come first: a full arena fails the op before any GPU work. */
static int start_prefill(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_compute *k = op->k;
    struct hw_engine *e = hw_eng(p, k->engine);
    uint32_t l = k->layer, need = 0;
    for (uint32_t i = 0; i < k->n_reqs; i++)
        need += hw_div_up(k->reqs[i]->input_tokens, k->reqs[i]->block_tokens);
    if (hw_op_room(p, op, need + 1))
        return p->failed;
    for (uint32_t i = 0; i < k->n_reqs; i++) {
        struct hw_req *h = hw_req_get(p, k->reqs[i]);
        if (!h)
            return p->failed;
        if (hw_req_alloc(p, op, h, HW_PE_HBM, 0, h->pb))
            return op->status;
        for (uint32_t b = 0; b < k->reqs[i]->cached_blocks; b++)
            hw_op_add(op, NULL, hw_unit_ptr(&e->hbm, h->u[HW_PE_HBM][b]) + l * p->lb16,
                      k->reqs[i]->sess, b, l);
    }
    if (hw_op_start_timing(p, op, e) || prefill_gemms(p, e, &k->shape) || attend(p, op, e))
        return p->failed;
    uint32_t base = op->n;
    for (uint32_t i = 0; i < k->n_reqs; i++) {
        struct hw_req *h = hw_req_get(p, k->reqs[i]);
        for (uint32_t b = k->reqs[i]->cached_blocks; b < h->pb; b++)
            hw_op_add(op, NULL, hw_unit_ptr(&e->hbm, h->u[HW_PE_HBM][b]) + l * p->lb16,
                      k->reqs[i]->sess, b, l);
    }
    if (op->n > base && HW_CUDA(p, dp_kv_fill_dev(op->dst + base, op->tags + base,
                                                  op->n - base, p->lb16, e->s_comp)))
        return p->failed;
    return hw_op_record(p, op, e, e->s_comp);
}

/* One decode step: the active weights' bytes (this GPU's share) read by
 * GEMMs of the batch's rows, and every running request's KV read (and
 * verified) by the attention pass. */
static int start_decode(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_compute *k = op->k;
    struct hw_engine *e = hw_eng(p, k->engine);
    uint32_t need = 0;
    for (uint32_t i = 0; i < k->n_reqs; i++)
        need += hw_div_up(k->reqs[i]->input_tokens, k->reqs[i]->block_tokens) * p->L;
    if (hw_op_room(p, op, need + 1))
        return p->failed;
    for (uint32_t i = 0; i < k->n_reqs; i++) {
        struct hw_req *h = hw_req_get(p, k->reqs[i]);
        if (!h)
            return p->failed;
        for (uint32_t b = 0; b < h->pb; b++)
            for (uint32_t l = 0; l < p->L; l++)
                if (h->u[HW_DE_HBM][b] >= 0)
                    hw_op_add(op, NULL, hw_unit_ptr(&e->hbm, h->u[HW_DE_HBM][b]) + l * p->lb16,
                              k->reqs[i]->sess, b, l);
    }
    if (hw_op_start_timing(p, op, e) || decode_gemms(p, e, k->batch) || attend(p, op, e))
        return p->failed;
    return hw_op_record(p, op, e, e->s_comp);
}

int hw_compute(void *pp, struct dp_compute *k)
{
    struct dp_hwplat *p = pp;
    if (p->failed)
        return p->failed;
    if (k->engine < 0 || k->engine >= (int32_t)p->n_eng)
        return DP_EINVAL;
    struct hw_op *op = hw_op_get(p);
    if (!op)
        return hw_fail(p, DP_ENOMEM, "hw", "out of memory for an op");
    op->k = k;
    if (k->kind == DP_C_PREFILL_LAYER)
        start_prefill(p, op);
    else
        start_decode(p, op);
    /* a failure stops the run from the loop; core must not see it twice */
    return 0;
}

/* GPU time of a compute op beside what the cost model (the simulator)
 * gives the same op on this engine. */
int hw_compute_time(struct dp_hwplat *p, struct hw_op *op)
{
    struct dp_compute *k = op->k;
    struct hw_engine *e = op->e;
    float ms = 0;
    if (!op->timed || op->status)
        return 0;
    if (HW_CUDA(p, cudaEventElapsedTime(&ms, op->ev0[e->dev], op->ev[e->dev])))
        return p->failed;
    const struct dp_model *m = &p->sc->model;
    if (k->kind == DP_C_PREFILL_LAYER) {
        p->st.prefill_n++;
        p->st.prefill_gpu_s += ms * 1e-3;
        p->st.prefill_model_s += dp_prefill_layer_ns(m, &e->ehw, &k->shape) * 1e-9;
    } else {
        p->st.decode_n++;
        p->st.decode_gpu_s += ms * 1e-3;
        p->st.decode_model_s += dp_decode_step_ns(m, &e->ehw, k->batch, k->ctx_tokens) * 1e-9;
    }
    return 0;
}

/* ---- scratch ------------------------------------------------------------------ */

/* GEMM scratch: activations [rows x k], a k x k weight, the decode weights'
 * stand-in, the collective's buffer, the bad-block counter. */
int hw_setup_scratch(struct dp_hwplat *p, struct hw_engine *e, struct dp_err *err)
{
    size_t k = p->sc->model.hidden ? (p->sc->model.hidden + 63) / 64 * 64 : 4096;
    e->g_k = k > 8192 ? 8192 : k;
    size_t act = (size_t)HW_GEMM_ROWS * e->g_k * 2;
    if (DP_CUDA(err, cudaMalloc(&e->ga, act)) ||
        DP_CUDA(err, cudaMalloc(&e->gc, act > HW_WTS_BYTES ? act : HW_WTS_BYTES)) ||
        DP_CUDA(err, cudaMalloc(&e->gb, e->g_k * e->g_k * 2)) ||
        DP_CUDA(err, cudaMalloc(&e->wts, HW_WTS_BYTES)) ||
        DP_CUDA(err, cudaMalloc(&e->a2a, HW_A2A_BYTES)) ||
        DP_CUDA(err, cudaMalloc((void **)&e->bad_d, sizeof *e->bad_d)) ||
        DP_CUDA(err, cudaMemset(e->bad_d, 0, sizeof *e->bad_d)) ||
        DP_CUDA(err, dp_fill_bf16_random(e->ga, act / 2, 1, e->s_comp)) ||
        DP_CUDA(err, dp_fill_bf16_random(e->gb, e->g_k * e->g_k, 2, e->s_comp)) ||
        DP_CUDA(err, dp_fill_bf16_random(e->wts, HW_WTS_BYTES / 2, 3, e->s_comp)))
        return DP_EIO;
    return 0;
}

size_t hw_scratch_bytes(const struct dp_scenario *sc)
{
    size_t k = sc->model.hidden > 8192 ? 8192 : sc->model.hidden;
    return 3 * (size_t)HW_GEMM_ROWS * k * 2 + 2 * (size_t)HW_WTS_BYTES + HW_A2A_BYTES +
           (256u << 20);   /* cuBLAS workspace and slack */
}

void hw_free_scratch(struct hw_engine *e, int *rc, struct dp_err *err)
{
    void *bufs[] = {e->ga, e->gb, e->gc, e->wts, e->a2a, e->bad_d};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i])
            DP_CUDA_KEEP(*rc, err, cudaFree(bufs[i]));
    e->ga = e->gb = e->gc = e->wts = e->a2a = NULL;
    e->bad_d = NULL;
}

/* ---- compute probe ------------------------------------------------------------- */

/* Mean GPU time of 5 runs (after one warm-up) of a prefill layer of shape
 * sh, or of a decode step of `batch` when sh is NULL; -1 after a failure. */
static double probe_ms(struct dp_hwplat *p, struct hw_engine *e, const struct dp_prefill_shape *sh,
                       uint32_t batch)
{
    cudaEvent_t a = NULL, b = NULL;
    float ms = 0;
    if (HW_CUDA(p, cudaEventCreate(&a)) || HW_CUDA(p, cudaEventCreate(&b)))
        goto out;
    for (int i = 0; i < 6 && !p->failed; i++) {
        if (i == 1 && HW_CUDA(p, cudaEventRecord(a, e->s_comp)))
            goto out;
        sh ? prefill_gemms(p, e, sh) : decode_gemms(p, e, batch);
    }
    if (!p->failed && !HW_CUDA(p, cudaEventRecord(b, e->s_comp)) &&
        !HW_CUDA(p, cudaEventSynchronize(b)))
        HW_CUDA(p, cudaEventElapsedTime(&ms, a, b));
out:
    if (a)
        HW_CUDA(p, cudaEventDestroy(a));
    if (b)
        HW_CUDA(p, cudaEventDestroy(b));
    return p->failed ? -1 : ms / 5;
}

static void probe_rows(struct dp_hwplat *p, struct hw_engine *e, FILE *out)
{
    static const uint32_t toks[] = {64, 256, 1024, 4096, 8192};
    static const uint32_t batches[] = {1, 8, 32, 128};
    const struct dp_scenario *sc = p->sc;
    for (size_t i = 0; !p->failed && i < sizeof toks / sizeof toks[0] + 1; i++) {
        struct dp_prefill_shape sh = {0, 0, 0};
        int last = i == sizeof toks / sizeof toks[0];
        /* the last row: a later agent turn, 340 new tokens over 6000 cached */
        dp_prefill_shape_add(&sh, last ? 340 : toks[i], last ? 6000 : 0);
        double ms = probe_ms(p, e, &sh, 0);
        double model = dp_prefill_layer_ns(&sc->model, &e->ehw, &sh) / 1e6;
        double tf = dp_prefill_layer_flops(&sc->model, &sh) / e->gpus / (ms * 1e-3) / 1e12;
        if (!p->failed)
            fprintf(out, "probe_prefill_layer new=%llu cached=%u gpu_ms=%.3f model_ms=%.3f "
                    "ratio=%.2f TFLOPs=%.0f\n", (unsigned long long)sh.new_tokens,
                    last ? 6000 : 0, ms, model, ms / model, tf);
    }
    for (size_t i = 0; !p->failed && i < sizeof batches / sizeof batches[0]; i++) {
        double ms = probe_ms(p, e, NULL, batches[i]);
        double model = dp_decode_step_ns(&sc->model, &e->ehw, batches[i], 0) / 1e6;
        if (!p->failed)
            fprintf(out, "probe_decode_weights batch=%u gpu_ms=%.3f model_ms_no_kv=%.3f "
                    "ratio=%.2f\n", batches[i], ms, model, ms / model);
    }
}

int dp_hwplat_probe(const struct dp_scenario *sc, FILE *out, struct dp_err *err)
{
    struct dp_hwplat p;
    struct hw_engine e;
    memset(&p, 0, sizeof p);
    memset(&e, 0, sizeof e);
    p.sc = sc;
    e.gpus = sc->cluster.prefill_gpus ? sc->cluster.prefill_gpus : 1;
    dp_engine_hw_from(&e.ehw, &sc->hw, e.gpus);
    int rc = dp_cuda_require(1, NULL, err);
    if (!rc)
        rc = hw_setup_streams(&p, &e, err);
    if (!rc)
        rc = hw_setup_scratch(&p, &e, err);
    if (!rc)
        probe_rows(&p, &e, out);
    if (!rc && p.failed)
        rc = dp_err_set(err, p.failed, "%s", p.ferr.msg);
    DP_CUDA_KEEP(rc, err, cudaDeviceSynchronize());
    hw_engine_free_gpu(&e, &rc, err);
    return rc;
}
