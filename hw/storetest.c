/* `dualpath hw store`: the storage path of the shim end to end.
 *
 * Writes a block store (store.h) for --sessions sessions of --blocks blocks
 * of --layers layer slices, then reads all of it back twice through the
 * reader pool into pinned, mapped host buffers: once unshaped (the disk's
 * own rate) and once through a token bucket at --snic-gbps (the emulated
 * storage NIC). Each completed read is gathered into HBM by the block-copy
 * kernel; at the end one verify pass over HBM counts slices whose content is
 * wrong or missing. --corrupt N flips a byte in N slices after they are read,
 * to show that the count sees them. Output: name=value lines. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/bench.h"
#include "hw/blockcopy.h"
#include "hw/cudautil.h"
#include "hw/kvcheck.h"
#include "hw/store.h"

struct dp_st_opts {
    const char *dir;
    uint32_t sessions, blocks, layers, req_blocks;
    uint64_t layer_bytes;
    int threads, inflight, direct;
    double snic;     /* bytes/s for the shaped pass */
    uint32_t corrupt;
};

/* One in-flight read: its pinned buffer and the gather's pointer arrays. */
struct dp_st_slot {
    struct dp_store_req req;
    uint8_t *buf;            /* pinned, mapped */
    void **src, **dst;       /* pinned, mapped: read by the gather kernel */
    cudaEvent_t ev;
    int busy;                /* 1 reading, 2 copying, 0 free */
};

struct dp_st {
    struct dp_st_opts o;
    struct dp_store *store;
    struct dp_store_pool *pool;
    struct dp_st_slot *slots;
    cudaStream_t stream;
    uint8_t *hbm;            /* one slot per (session, block, layer) */
    size_t hbm_stride;
    uint32_t next_session, next_block;
    uint32_t corrupted;
    int corrupt_on;          /* corrupt in this pass */
};

static uint64_t dp_st_total_slices(const struct dp_st *t)
{
    return (uint64_t)t->o.sessions * t->o.blocks * t->o.layers;
}

static uint8_t *dp_st_hbm_slot(struct dp_st *t, uint64_t s, uint32_t b, uint32_t l)
{
    return t->hbm + ((s * t->o.blocks + b) * t->o.layers + l) * t->hbm_stride;
}

static int dp_st_alloc(struct dp_st *t, struct dp_err *err)
{
    uint64_t req = dp_store_read_bytes(t->store, t->o.req_blocks, t->o.layers);
    size_t ptrs = (size_t)t->o.req_blocks * t->o.layers * sizeof(void *);
    t->hbm_stride = (t->o.layer_bytes + 15) / 16 * 16;
    int rc = dp_cuda_require_mem(dp_st_total_slices(t) * t->hbm_stride + (64u << 20),
                                 "the store test", err);
    if (rc)
        return rc;
    t->slots = calloc((size_t)t->o.inflight, sizeof *t->slots);
    if (!t->slots)
        return dp_err_set(err, DP_ENOMEM, "store test: out of memory");
    cudaError_t c = cudaStreamCreateWithFlags(&t->stream, cudaStreamNonBlocking);
    if (c == cudaSuccess)
        c = cudaMalloc((void **)&t->hbm, dp_st_total_slices(t) * t->hbm_stride);
    for (int i = 0; i < t->o.inflight && c == cudaSuccess; i++) {
        struct dp_st_slot *s = &t->slots[i];
        c = cudaHostAlloc((void **)&s->buf, req, cudaHostAllocMapped);
        if (c == cudaSuccess)
            c = cudaHostAlloc((void **)&s->src, ptrs, cudaHostAllocMapped);
        if (c == cudaSuccess)
            c = cudaHostAlloc((void **)&s->dst, ptrs, cudaHostAllocMapped);
        if (c == cudaSuccess)
            c = cudaEventCreateWithFlags(&s->ev, cudaEventDisableTiming);
    }
    return dp_cuda_fail(err, c, "store test: pinned buffers / HBM");
}

/* Free everything; 0 or the first CUDA failure of the teardown (err). */
static int dp_st_free(struct dp_st *t, struct dp_err *err)
{
    int rc = 0;
    dp_store_pool_destroy(t->pool);   /* its readers may still write the pinned buffers */
    for (int i = 0; t->slots && i < t->o.inflight; i++) {
        struct dp_st_slot *s = &t->slots[i];
        DP_CUDA_KEEP(rc, err, cudaFreeHost(s->buf));
        DP_CUDA_KEEP(rc, err, cudaFreeHost(s->src));
        DP_CUDA_KEEP(rc, err, cudaFreeHost(s->dst));
        if (s->ev)
            DP_CUDA_KEEP(rc, err, cudaEventDestroy(s->ev));
    }
    free(t->slots);
    DP_CUDA_KEEP(rc, err, cudaFree(t->hbm));
    if (t->stream)
        DP_CUDA_KEEP(rc, err, cudaStreamDestroy(t->stream));
    dp_store_close(t->store);
    return rc;
}

/* Next request of the pass, or 0 when all were issued. */
static int dp_st_next(struct dp_st *t, struct dp_st_slot *s, struct dp_tbucket *tb)
{
    if (t->next_session >= t->o.sessions)
        return 0;
    struct dp_store_req *r = &s->req;
    memset(r, 0, sizeof *r);
    r->session = t->next_session;
    r->block_lo = t->next_block;
    r->block_hi = r->block_lo + t->o.req_blocks;
    if (r->block_hi > t->o.blocks)
        r->block_hi = t->o.blocks;
    r->layer_lo = 0;
    r->layer_hi = t->o.layers;
    r->dst = s->buf;
    r->bucket = tb;
    r->user = s;
    t->next_block = r->block_hi;
    if (t->next_block >= t->o.blocks) {
        t->next_block = 0;
        t->next_session++;
    }
    return 1;
}

/* A read landed: corrupt it if asked, then gather its slices into HBM. */
static int dp_st_landed(struct dp_st *t, struct dp_st_slot *s, struct dp_err *err)
{
    struct dp_store_req *r = &s->req;
    uint64_t slot = dp_store_slot_bytes(t->store);
    uint32_t n = 0;
    if (r->status)
        return dp_err_set(err, r->status, "%s", r->msg);
    if (t->corrupt_on && t->corrupted < t->o.corrupt) {
        s->buf[slot / 2] ^= 0x40;   /* the request's first slice */
        t->corrupted++;
    }
    for (uint32_t b = r->block_lo; b < r->block_hi; b++)
        for (uint32_t l = r->layer_lo; l < r->layer_hi; l++, n++) {
            s->src[n] = s->buf + (size_t)n * slot;
            s->dst[n] = dp_st_hbm_slot(t, r->session, b, l);
        }
    cudaError_t c = dp_blockcopy_gather(s->dst, (const void *const *)s->src, n,
                                        t->hbm_stride, 0, t->stream);
    if (c == cudaSuccess)
        c = cudaEventRecord(s->ev, t->stream);
    s->busy = 2;
    return dp_cuda_fail(err, c, "store test: gather to HBM");
}

/* Free the slots whose gather finished; returns how many are free. */
static int dp_st_reap(struct dp_st *t)
{
    int free_n = 0;
    for (int i = 0; i < t->o.inflight; i++) {
        struct dp_st_slot *s = &t->slots[i];
        if (s->busy == 2 && cudaEventQuery(s->ev) == cudaSuccess)
            s->busy = 0;
        free_n += s->busy == 0;
    }
    return free_n;
}

/* Read the whole store once; returns bytes/s or <0. */
static double dp_st_pass(struct dp_st *t, struct dp_tbucket *tb, struct dp_err *err)
{
    int pending = 0;
    t->next_session = t->next_block = 0;
    uint64_t t0 = dp_clock_ns();
    for (;;) {
        dp_st_reap(t);
        for (int i = 0; i < t->o.inflight; i++) {
            struct dp_st_slot *s = &t->slots[i];
            if (s->busy == 0 && dp_st_next(t, s, tb)) {
                s->busy = 1;
                pending++;
                dp_store_pool_submit(t->pool, &s->req);
            }
        }
        if (pending == 0 && t->next_session >= t->o.sessions)
            break;
        if (pending == 0) {   /* every slot is still copying: let the gathers drain */
            if (DP_CUDA(err, cudaStreamSynchronize(t->stream)))
                return -1;
            continue;
        }
        struct dp_store_req *r = dp_store_pool_wait(t->pool, 1000000);
        for (; r; r = r->next, pending--)
            if (dp_st_landed(t, r->user, err))
                return -1;
    }
    if (dp_cuda_fail(err, cudaStreamSynchronize(t->stream), "store test: sync"))
        return -1;
    double dt = (dp_clock_ns() - t0) * 1e-9;
    return (double)dp_st_total_slices(t) * (double)dp_store_slot_bytes(t->store) / dt;
}

/* Count wrong slices in HBM (one kernel over all of them). */
static long long dp_st_verify(struct dp_st *t, struct dp_err *err)
{
    uint64_t n = dp_st_total_slices(t);
    void **p = NULL;
    struct dp_kv_tag *tags = NULL;
    unsigned long long *bad = NULL;
    cudaError_t c = cudaHostAlloc((void **)&p, n * sizeof *p, cudaHostAllocMapped);
    if (c == cudaSuccess)
        c = cudaHostAlloc((void **)&tags, n * sizeof *tags, cudaHostAllocMapped);
    if (c == cudaSuccess)
        c = cudaHostAlloc((void **)&bad, sizeof *bad, cudaHostAllocMapped);
    uint64_t i = 0;
    for (uint32_t s = 0; c == cudaSuccess && s < t->o.sessions; s++)
        for (uint32_t b = 0; b < t->o.blocks; b++)
            for (uint32_t l = 0; l < t->o.layers; l++, i++) {
                p[i] = dp_st_hbm_slot(t, s, b, l);
                tags[i] = (struct dp_kv_tag){s, b, l};
            }
    if (c == cudaSuccess) {
        *bad = 0;
        c = dp_kv_verify_dev((const void *const *)p, tags, (uint32_t)n, t->o.layer_bytes, bad,
                             t->stream);
    }
    if (c == cudaSuccess)
        c = cudaStreamSynchronize(t->stream);
    long long out = c == cudaSuccess ? (long long)*bad : -1;
    int rc = dp_cuda_fail(err, c, "store test: verify");
    if (p)
        DP_CUDA_KEEP(rc, err, cudaFreeHost(p));
    if (tags)
        DP_CUDA_KEEP(rc, err, cudaFreeHost(tags));
    if (bad)
        DP_CUDA_KEEP(rc, err, cudaFreeHost(bad));
    return rc ? -1 : out;
}

static int dp_st_parse(struct dp_st_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},        {"sessions", required_argument, 0, 's'},
        {"blocks", required_argument, 0, 'b'},     {"layers", required_argument, 0, 'l'},
        {"layer-kib", required_argument, 0, 'k'},  {"req-blocks", required_argument, 0, 'r'},
        {"threads", required_argument, 0, 't'},    {"inflight", required_argument, 0, 'i'},
        {"snic-gbps", required_argument, 0, 'g'},  {"corrupt", required_argument, 0, 'c'},
        {"page-cache", no_argument, 0, 'p'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:s:b:l:k:r:t:i:g:c:ph", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o->dir = optarg; break;
        case 's': o->sessions = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'b': o->blocks = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'l': o->layers = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'k': o->layer_bytes = strtoull(optarg, NULL, 10) * 1024; break;
        case 'r': o->req_blocks = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 't': o->threads = atoi(optarg); break;
        case 'i': o->inflight = atoi(optarg); break;
        case 'g': o->snic = atof(optarg) * 1e9; break;
        case 'c': o->corrupt = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'p': o->direct = 0; break;
        default:
            fprintf(stderr,
                    "usage: dualpath hw store [--dir DIR (.dp-store)] [--sessions 8] "
                    "[--blocks 128] [--layers 16] [--layer-kib 64] [--req-blocks 8] "
                    "[--threads 8] [--inflight 16] [--snic-gbps 1.0] [--corrupt N] "
                    "[--page-cache]\n");
            return 2;
        }
    }
    if (!o->sessions || !o->blocks || !o->layers || !o->layer_bytes || !o->req_blocks ||
        o->threads < 1 || o->inflight < 1 || o->snic <= 0) {
        fprintf(stderr, "dualpath hw store: every size must be positive\n");
        return 2;
    }
    return 0;
}

static int dp_st_run(struct dp_st *t, struct dp_err *err)
{
    struct dp_tbucket tb;
    int rc = dp_cuda_require(1, NULL, err);
    if (!rc)
        rc = dp_store_open(&t->store, t->o.dir, t->o.layers, t->o.layer_bytes, t->o.direct, err);
    if (!rc)
        rc = dp_store_pool_create(&t->pool, t->store, t->o.threads, err);
    if (!rc)
        rc = dp_st_alloc(t, err);
    if (rc)
        return rc;
    double bytes = (double)dp_st_total_slices(t) * (double)dp_store_slot_bytes(t->store);
    printf("store_dir=%s\nstore_o_direct=%s\nstore_bytes=%.0f\n", t->o.dir,
           dp_store_is_direct(t->store) ? "yes" : "no", bytes);
    uint64_t t0 = dp_clock_ns();
    for (uint32_t s = 0; s < t->o.sessions && !rc; s++)
        rc = dp_store_write_session(t->store, s, t->o.blocks, err);
    if (rc)
        return rc;
    printf("store_write_GBps=%.3f\n", bytes / ((dp_clock_ns() - t0) * 1e-9) / 1e9);
    double raw = dp_st_pass(t, NULL, err);
    if (raw < 0)
        return DP_EIO;
    printf("store_read_unshaped_GBps=%.3f\n", raw / 1e9);
    long long bad = dp_st_verify(t, err);
    if (bad < 0)
        return DP_EIO;
    printf("store_bad_slices_unshaped=%lld\n", bad);
    /* a missed slice shows */
    if ((rc = DP_CUDA(err, cudaMemset(t->hbm, 0, dp_st_total_slices(t) * t->hbm_stride))))
        return rc;
    t->corrupt_on = 1;
    dp_tbucket_init(&tb, t->o.snic, 4.0 * 1048576);
    double shaped = dp_st_pass(t, &tb, err);
    dp_tbucket_destroy(&tb);
    if (shaped < 0)
        return DP_EIO;
    printf("store_snic_target_GBps=%.3f\nstore_read_shaped_GBps=%.3f\n"
           "store_shaped_over_target=%.3f\n", t->o.snic / 1e9, shaped / 1e9, shaped / t->o.snic);
    bad = dp_st_verify(t, err);
    if (bad < 0)
        return DP_EIO;
    printf("store_corrupt_injected=%u\nstore_bad_slices=%lld\n", t->corrupted, bad);
    return bad == (long long)t->corrupted ? 0 : dp_err_set(err, DP_EIO,
           "verify counted %lld wrong slices, %u were corrupted", bad, t->corrupted);
}

int dp_hw_store_main(int argc, char **argv)
{
    struct dp_st t;
    struct dp_err err = {{0}};
    memset(&t, 0, sizeof t);
    t.o = (struct dp_st_opts){".dp-store", 8, 128, 16, 8, 64 * 1024, 8, 16, -1, 1e9, 0};
    int rc = dp_st_parse(&t.o, argc, argv);
    if (rc)
        return rc;
    rc = dp_st_run(&t, &err);
    struct dp_err ferr;
    int frc = dp_st_free(&t, &ferr);
    if (!rc && frc) {
        rc = frc;
        err = ferr;
    }
    if (rc) {
        fprintf(stderr, "dualpath hw store: %s\n", err.msg);
        return 1;
    }
    return 0;
}
