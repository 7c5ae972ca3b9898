/* dualpath-hwbench / `dualpath hw bench`: batched copies of scattered KV
 * blocks against one bulk copy of the same bytes.
 *
 * The batch is what a layerwise load moves: --blocks blocks of --block-kib
 * KiB (16,384 x 64 KiB = 1 GiB by default), whose slots in a pool twice that
 * size are a random permutation, as a KV index would scatter them, on both
 * sides. Each variant is first run once on poisoned destinations and
 * verified block by block (kvfill.h content), then timed (median of --reps
 * after a warm-up). Variants: one gather kernel (1, 2, 4 CTAs per SM, best
 * reported), cudaMemcpyBatchAsync, and naive one-cudaMemcpyAsync-per-block.
 * Directions: h2d (pinned host -> HBM), d2h, d2d (HBM -> HBM) and peer
 * (GPU1 -> GPU0 over NVLink) when two GPUs exist.
 *
 * Output: name=value lines (GB/s are 1e9 bytes of payload per second). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/bench.h"
#include "hw/blockcopy.h"
#include "hw/cudautil.h"
#include "hw/kvcheck.h"

enum dp_bc_mode { DP_BC_BULK, DP_BC_KERNEL, DP_BC_BATCH, DP_BC_NAIVE };

/* One direction's batch: pointer arrays on the host and on the device. */
struct dp_bc_set {
    const char *name;          /* h2d, d2h, d2d, peer */
    void **dst_h, **src_h;     /* host copies of the pointer arrays */
    void **dst_d, **src_d;     /* device copies, read by the kernels */
    struct dp_kv_tag *tags_d;  /* what each destination must hold */
    void *bulk_dst, *bulk_src; /* contiguous buffers for the bulk copy */
    void *poison;              /* region to clear before a verify run */
    size_t poison_bytes;
    int poison_host;           /* 1: poison is host memory */
};

struct dp_bench {
    uint32_t n;                /* blocks in the batch */
    uint32_t slots;            /* slots in each pool */
    size_t bytes;              /* bytes per block */
    int reps;
    int ngpu;
    cudaStream_t stream;
    uint8_t *host_pool;        /* pinned, mapped */
    uint8_t *dev_pool, *dev_pool2, *peer_pool;
    uint32_t *sperm, *dperm;   /* slot of block i on the source / destination side */
    size_t *sizes_h;
    struct dp_kv_tag *tags_h;
    unsigned long long *bad_d;
    struct dp_bc_set sets[4];
    int nsets;
    int failed;                /* a verify found wrong blocks */
};

/* The run being timed: one set, one mode. */
struct dp_bc_run {
    struct dp_bench *b;
    struct dp_bc_set *s;
    int mode;
    unsigned ctas;
};

static int dp_bc_once(void *arg, cudaStream_t st, struct dp_err *err)
{
    struct dp_bc_run *r = arg;
    struct dp_bench *b = r->b;
    struct dp_bc_set *s = r->s;
    cudaError_t rc = cudaSuccess;
    switch (r->mode) {
    case DP_BC_BULK:
        rc = cudaMemcpyAsync(s->bulk_dst, s->bulk_src, (size_t)b->n * b->bytes,
                             cudaMemcpyDefault, st);
        break;
    case DP_BC_KERNEL:
        rc = dp_blockcopy_gather(s->dst_d, (const void *const *)s->src_d, b->n, b->bytes,
                                 r->ctas, st);
        break;
    case DP_BC_BATCH:
        rc = dp_blockcopy_batch(s->dst_h, (const void *const *)s->src_h, b->sizes_h, b->n, st);
        break;
    case DP_BC_NAIVE:
        for (uint32_t i = 0; i < b->n && rc == cudaSuccess; i++)
            rc = cudaMemcpyAsync(s->dst_h[i], s->src_h[i], b->bytes, cudaMemcpyDefault, st);
        break;
    }
    return dp_cuda_fail(err, rc, s->name);
}

/* Poison the destination, run once, count wrong blocks. Returns <0 on a
 * CUDA error, else the number of wrong blocks. */
static long long dp_bc_verify(struct dp_bc_run *r, struct dp_err *err)
{
    struct dp_bench *b = r->b;
    struct dp_bc_set *s = r->s;
    unsigned long long bad = 0;
    if (s->poison_host)
        memset(s->poison, 0, s->poison_bytes);
    else if (dp_cuda_fail(err, cudaMemsetAsync(s->poison, 0, s->poison_bytes, b->stream),
                          "poison"))
        return -1;
    if (dp_cuda_fail(err, cudaMemsetAsync(b->bad_d, 0, sizeof *b->bad_d, b->stream), "memset"))
        return -1;
    if (dp_bc_once(r, b->stream, err))
        return -1;
    cudaError_t rc = dp_kv_verify_dev((const void *const *)s->dst_d, s->tags_d, b->n, b->bytes,
                                      b->bad_d, b->stream);
    if (rc == cudaSuccess)
        rc = cudaMemcpyAsync(&bad, b->bad_d, sizeof bad, cudaMemcpyDeviceToHost, b->stream);
    if (rc == cudaSuccess)
        rc = cudaStreamSynchronize(b->stream);
    if (dp_cuda_fail(err, rc, "verify"))
        return -1;
    return (long long)bad;
}

/* Verify then time one variant; GB/s of payload, or <0 on error. */
static double dp_bc_measure(struct dp_bench *b, struct dp_bc_set *s, int mode, unsigned ctas,
                            const char *label, struct dp_err *err)
{
    struct dp_bc_run r = {b, s, mode, ctas};
    if (mode != DP_BC_BULK) {
        long long bad = dp_bc_verify(&r, err);
        if (bad < 0)
            return -1;
        if (bad > 0) {
            printf("%s_%s_bad_blocks=%lld\n", s->name, label, bad);
            b->failed = 1;
        }
    }
    int reps = mode == DP_BC_NAIVE ? (b->reps + 1) / 2 : b->reps;
    double t = dp_cuda_time(dp_bc_once, &r, b->stream, 1, reps, err);
    if (t <= 0)
        return -1;
    return (double)b->n * (double)b->bytes / t / 1e9;
}

static void dp_bc_shuffle(uint32_t *v, uint32_t n, uint64_t *state)
{
    for (uint32_t i = 0; i < n; i++)
        v[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        *state = dp_mix64(*state + DP_KV_GOLDEN);
        uint32_t j = (uint32_t)(*state % (i + 1));
        uint32_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* Build a set's arrays: block i goes src_base slot sslot[i] -> dst_base
 * slot dslot[i] and must arrive holding block sperm[i]'s content. */
static int dp_bc_set_init(struct dp_bench *b, struct dp_bc_set *s, const char *name,
                          uint8_t *src_base, const uint32_t *sslot, uint8_t *dst_base,
                          const uint32_t *dslot, struct dp_err *err)
{
    size_t arr = (size_t)b->n * sizeof(void *);
    s->name = name;
    s->dst_h = malloc(arr);
    s->src_h = malloc(arr);
    if (!s->dst_h || !s->src_h)
        return dp_err_set(err, DP_ENOMEM, "bench: out of host memory");
    for (uint32_t i = 0; i < b->n; i++) {
        s->src_h[i] = src_base + (size_t)sslot[i] * b->bytes;
        s->dst_h[i] = dst_base + (size_t)dslot[i] * b->bytes;
    }
    cudaError_t rc = cudaMalloc((void **)&s->dst_d, arr);
    if (rc == cudaSuccess)
        rc = cudaMalloc((void **)&s->src_d, arr);
    if (rc == cudaSuccess)
        rc = cudaMemcpy(s->dst_d, s->dst_h, arr, cudaMemcpyHostToDevice);
    if (rc == cudaSuccess)
        rc = cudaMemcpy(s->src_d, s->src_h, arr, cudaMemcpyHostToDevice);
    if (rc == cudaSuccess)
        rc = cudaMalloc((void **)&s->tags_d, (size_t)b->n * sizeof *s->tags_d);
    if (rc == cudaSuccess)
        rc = cudaMemcpy(s->tags_d, b->tags_h, (size_t)b->n * sizeof *s->tags_d,
                        cudaMemcpyHostToDevice);
    s->bulk_src = src_base;
    s->bulk_dst = dst_base;
    s->poison = dst_base;
    s->poison_bytes = (size_t)b->slots * b->bytes;
    return dp_cuda_fail(err, rc, "bench: pointer arrays");
}

/* Fill `slots` blocks of a device pool: slot k holds block k's content. */
static int dp_bc_fill_pool(struct dp_bench *b, uint8_t *pool, struct dp_err *err)
{
    const uint32_t chunk = 16384;
    void **p_d = NULL;
    struct dp_kv_tag *t_d = NULL;
    void **p_h = malloc(chunk * sizeof *p_h);
    struct dp_kv_tag *t_h = malloc(chunk * sizeof *t_h);
    cudaError_t rc = cudaMalloc((void **)&p_d, chunk * sizeof *p_d);
    if (rc == cudaSuccess)
        rc = cudaMalloc((void **)&t_d, chunk * sizeof *t_d);
    for (uint32_t k0 = 0; rc == cudaSuccess && p_h && t_h && k0 < b->slots; k0 += chunk) {
        uint32_t m = b->slots - k0 < chunk ? b->slots - k0 : chunk;
        for (uint32_t i = 0; i < m; i++) {
            p_h[i] = pool + (size_t)(k0 + i) * b->bytes;
            t_h[i] = (struct dp_kv_tag){1, k0 + i, 0};
        }
        rc = cudaMemcpy(p_d, p_h, m * sizeof *p_d, cudaMemcpyHostToDevice);
        if (rc == cudaSuccess)
            rc = cudaMemcpy(t_d, t_h, m * sizeof *t_d, cudaMemcpyHostToDevice);
        if (rc == cudaSuccess)
            rc = dp_kv_fill_dev(p_d, t_d, m, b->bytes, b->stream);
        if (rc == cudaSuccess)
            rc = cudaStreamSynchronize(b->stream);
    }
    free(p_h);
    free(t_h);
    int code = dp_cuda_fail(err, rc, "bench: fill pool");
    if (p_d)
        DP_CUDA_KEEP(code, err, cudaFree(p_d));
    if (t_d)
        DP_CUDA_KEEP(code, err, cudaFree(t_d));
    if (!code && (!p_h || !t_h))
        return dp_err_set(err, DP_ENOMEM, "bench: out of host memory");
    return code;
}

static int dp_bc_alloc(struct dp_bench *b, struct dp_err *err)
{
    size_t pool = (size_t)b->slots * b->bytes;
    int rc = dp_cuda_require_mem(2 * pool + (64u << 20), "the bench pools", err);
    if (rc)
        return rc;
    b->sperm = malloc(b->slots * sizeof *b->sperm);
    b->dperm = malloc(b->slots * sizeof *b->dperm);
    b->sizes_h = malloc(b->n * sizeof *b->sizes_h);
    b->tags_h = malloc(b->n * sizeof *b->tags_h);
    if (!b->sperm || !b->dperm || !b->sizes_h || !b->tags_h)
        return dp_err_set(err, DP_ENOMEM, "bench: out of host memory");
    cudaError_t c = cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking);
    if (c == cudaSuccess)
        c = cudaHostAlloc((void **)&b->host_pool, pool,
                          cudaHostAllocMapped | cudaHostAllocPortable);
    if (c == cudaSuccess)
        c = cudaMalloc((void **)&b->dev_pool, pool);
    if (c == cudaSuccess)
        c = cudaMalloc((void **)&b->dev_pool2, pool);
    if (c == cudaSuccess)
        c = cudaMalloc((void **)&b->bad_d, sizeof *b->bad_d);
    return dp_cuda_fail(err, c, "bench: allocation (pinned host pool and HBM pools)");
}

/* Free everything; 0 or the first CUDA failure of the teardown (err). */
static int dp_bc_free(struct dp_bench *b, struct dp_err *err)
{
    int rc = 0;
    for (int i = 0; i < b->nsets; i++) {
        struct dp_bc_set *s = &b->sets[i];
        free(s->dst_h);
        free(s->src_h);
        DP_CUDA_KEEP(rc, err, cudaFree(s->dst_d));
        DP_CUDA_KEEP(rc, err, cudaFree(s->src_d));
        DP_CUDA_KEEP(rc, err, cudaFree(s->tags_d));
    }
    DP_CUDA_KEEP(rc, err, cudaFreeHost(b->host_pool));
    DP_CUDA_KEEP(rc, err, cudaFree(b->dev_pool));
    DP_CUDA_KEEP(rc, err, cudaFree(b->dev_pool2));
    DP_CUDA_KEEP(rc, err, cudaFree(b->bad_d));
    if (b->peer_pool) {
        DP_CUDA_KEEP(rc, err, cudaSetDevice(1));
        DP_CUDA_KEEP(rc, err, cudaFree(b->peer_pool));
        DP_CUDA_KEEP(rc, err, cudaSetDevice(0));
    }
    free(b->sperm);
    free(b->dperm);
    free(b->sizes_h);
    free(b->tags_h);
    if (b->stream)
        DP_CUDA_KEEP(rc, err, cudaStreamDestroy(b->stream));
    return rc;
}

/* The source pools hold slot k = block k; the batch moves blocks sperm[i]
 * (host side slots) to dperm[i] (device side slots). */
static int dp_bc_setup(struct dp_bench *b, struct dp_err *err)
{
    uint64_t st = 0x1234;
    int rc = dp_bc_alloc(b, err);
    if (rc)
        return rc;
    dp_bc_shuffle(b->sperm, b->slots, &st);
    dp_bc_shuffle(b->dperm, b->slots, &st);
    for (uint32_t i = 0; i < b->n; i++) {
        b->sizes_h[i] = b->bytes;
        b->tags_h[i] = (struct dp_kv_tag){1, b->sperm[i], 0};
    }
    /* host pool content: fill HBM, then one bulk copy down */
    if ((rc = dp_bc_fill_pool(b, b->dev_pool, err)))
        return rc;
    cudaError_t c = cudaMemcpy(b->host_pool, b->dev_pool, (size_t)b->slots * b->bytes,
                               cudaMemcpyDeviceToHost);
    if ((rc = dp_cuda_fail(err, c, "bench: host pool fill")))
        return rc;
    struct dp_bc_set *s = b->sets;
    /* h2d: host slot sperm[i] -> HBM slot dperm[i] */
    if ((rc = dp_bc_set_init(b, &s[0], "h2d", b->host_pool, b->sperm, b->dev_pool, b->dperm,
                             err)))
        return rc;
    /* d2h: HBM slot dperm[i] (holds block sperm[i] after h2d) -> host slot sperm[i] */
    if ((rc = dp_bc_set_init(b, &s[1], "d2h", b->dev_pool, b->dperm, b->host_pool, b->sperm,
                             err)))
        return rc;
    s[1].poison_host = 1;
    /* d2d: HBM slot dperm[i] -> second HBM pool slot sperm[i] */
    if ((rc = dp_bc_set_init(b, &s[2], "d2d", b->dev_pool, b->dperm, b->dev_pool2, b->sperm,
                             err)))
        return rc;
    b->nsets = 3;
    return 0;
}

/* peer: GPU1's pool (slot k = block k) -> GPU0's pool, kernel on GPU0. */
static int dp_bc_setup_peer(struct dp_bench *b, struct dp_err *err)
{
    int can = 0;
    size_t pool = (size_t)b->slots * b->bytes;
    int rc = DP_CUDA(err, cudaDeviceCanAccessPeer(&can, 0, 1));
    if (rc)
        return rc;
    if (!can)
        return dp_err_set(err, DP_ENODEV, "GPU0 cannot access GPU1 (no peer path)");
    cudaError_t c = cudaDeviceEnablePeerAccess(1, 0);
    if (c == cudaErrorPeerAccessAlreadyEnabled) {
        c = cudaSuccess;
        (void)cudaGetLastError();   /* not sticky: clear it */
    }
    if ((rc = dp_cuda_fail(err, c, "peer setup")) || (rc = DP_CUDA(err, cudaSetDevice(1))))
        return rc;
    /* on GPU1: its pool, filled on a stream of its own */
    cudaStream_t keep = b->stream, own = NULL;
    rc = DP_CUDA(err, cudaMalloc((void **)&b->peer_pool, pool));
    if (!rc)
        rc = DP_CUDA(err, cudaStreamCreateWithFlags(&own, cudaStreamNonBlocking));
    if (!rc) {
        b->stream = own;
        rc = dp_bc_fill_pool(b, b->peer_pool, err);
        b->stream = keep;
        DP_CUDA_KEEP(rc, err, cudaStreamDestroy(own));
    }
    DP_CUDA_KEEP(rc, err, cudaSetDevice(0));
    if (rc)
        return rc;
    rc = dp_bc_set_init(b, &b->sets[3], "peer", b->peer_pool, b->sperm, b->dev_pool, b->dperm,
                        err);
    b->nsets = 4;
    return rc;
}

/* Bulk, kernel (best grid), batch and naive for one set; name=value lines. */
static int dp_bc_direction(struct dp_bench *b, struct dp_bc_set *s, struct dp_err *err)
{
    static const unsigned per_sm[] = {1, 2, 4};
    double bulk = dp_bc_measure(b, s, DP_BC_BULK, 0, "bulk", err);
    if (bulk < 0)
        return DP_EIO;
    double best = 0;
    unsigned best_per_sm = 0;
    for (int i = 0; i < 3; i++) {
        char label[32];
        snprintf(label, sizeof label, "kernel%u", per_sm[i]);
        double g = dp_bc_measure(b, s, DP_BC_KERNEL, dp_blockcopy_ctas(0, per_sm[i]), label,
                                 err);
        if (g < 0)
            return DP_EIO;
        printf("%s_block_%uctas_per_sm_GBps=%.2f\n", s->name, per_sm[i], g);
        if (g > best) {
            best = g;
            best_per_sm = per_sm[i];
        }
    }
    printf("%s_bulk_GBps=%.2f\n", s->name, bulk);
    printf("%s_block_GBps=%.2f\n", s->name, best);
    printf("%s_block_ctas_per_sm=%u\n", s->name, best_per_sm);
    printf("%s_block_over_bulk=%.3f\n", s->name, best / bulk);
    double batch = dp_bc_measure(b, s, DP_BC_BATCH, 0, "batch", err);
    if (batch < 0) {
        printf("%s_batch_GBps=n/a (%s)\n", s->name, err->msg);
    } else {
        printf("%s_batch_GBps=%.2f\n", s->name, batch);
        printf("%s_batch_over_bulk=%.3f\n", s->name, batch / bulk);
    }
    double naive = dp_bc_measure(b, s, DP_BC_NAIVE, 0, "naive", err);
    if (naive < 0)
        return DP_EIO;
    printf("%s_naive_GBps=%.2f\n", s->name, naive);
    printf("%s_naive_over_bulk=%.3f\n", s->name, naive / bulk);
    fflush(stdout);
    return 0;
}

static int dp_bc_parse(struct dp_bench *b, int argc, char **argv)
{
    static const struct option opts[] = {
        {"blocks", required_argument, 0, 'n'}, {"block-kib", required_argument, 0, 'k'},
        {"reps", required_argument, 0, 'r'},   {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:k:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': b->n = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'k': b->bytes = (size_t)strtoul(optarg, NULL, 10) * 1024; break;
        case 'r': b->reps = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: dualpath hw bench [--blocks N (16384)] "
                            "[--block-kib K (64)] [--reps R (10)]\n");
            return 2;
        }
    }
    if (b->n == 0 || b->bytes == 0 || b->reps < 1 || b->reps > 64) {
        fprintf(stderr, "dualpath hw bench: --blocks, --block-kib must be > 0, "
                        "--reps in 1..64\n");
        return 2;
    }
    b->slots = 2 * b->n;
    return 0;
}

static int dp_bc_header(const struct dp_bench *b, struct dp_err *err)
{
    struct cudaDeviceProp p;
    int rt = 0, drv = 0;
    int rc = DP_CUDA(err, cudaGetDeviceProperties(&p, 0));
    if (!rc)
        rc = DP_CUDA(err, cudaRuntimeGetVersion(&rt));
    if (!rc)
        rc = DP_CUDA(err, cudaDriverGetVersion(&drv));
    if (rc)
        return rc;
    printf("device=%s\n", p.name);
    printf("gpus=%d\n", b->ngpu);
    printf("sms=%d\n", p.multiProcessorCount);
    printf("cuda_runtime=%d\ncuda_driver=%d\n", rt, drv);
    printf("blocks=%u\nblock_bytes=%zu\npool_slots=%u\nbatch_bytes=%zu\n", b->n, b->bytes,
           b->slots, (size_t)b->n * b->bytes);
    return 0;
}

int dp_hw_bench_main(int argc, char **argv)
{
    struct dp_bench b;
    struct dp_err err = {{0}};
    memset(&b, 0, sizeof b);
    b.n = 16384;
    b.bytes = 64 * 1024;
    b.reps = 10;
    int rc = dp_bc_parse(&b, argc, argv);
    if (rc)
        return rc;
    if ((rc = dp_cuda_require(1, &b.ngpu, &err)) == 0 &&
        (rc = DP_CUDA(&err, cudaSetDevice(0))) == 0 && (rc = dp_bc_header(&b, &err)) == 0)
        rc = dp_bc_setup(&b, &err);
    for (int i = 0; rc == 0 && i < b.nsets; i++)
        rc = dp_bc_direction(&b, &b.sets[i], &err);
    if (rc == 0 && b.ngpu >= 2) {
        if ((rc = dp_bc_setup_peer(&b, &err)) == 0)
            rc = dp_bc_direction(&b, &b.sets[3], &err);
        else
            printf("peer_block_over_bulk=n/a (%s)\n", err.msg), rc = 0;
    } else if (rc == 0) {
        printf("peer_block_over_bulk=n/a (1 GPU)\n");
    }
    struct dp_err ferr;
    int frc = dp_bc_free(&b, &ferr);
    if (!rc && frc) {
        rc = frc;
        err = ferr;
    }
    if (rc) {
        fprintf(stderr, "dualpath hw bench: %s\n", err.msg);
        return 1;
    }
    printf("verify=%s\n", b.failed ? "FAILED" : "ok");
    return b.failed ? 1 : 0;
}
