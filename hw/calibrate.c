/* `dualpath hw calibrate`: measure this machine and write a hardware YAML
 * with exactly the keys of struct dp_hw (models/model.h), each line's
 * comment saying whether the value was measured (and how) or assumed.
 *
 * Measured: PCIe (1 GiB pinned copies each way), HBM (device-to-device
 * copy), bf16 GEMM through cuBLAS (8192^3 and a prefill-like shape), peer
 * bandwidth (2+ GPUs), storage (a file in --store-dir: O_DIRECT writes and
 * reads, page-cache reads cold and warm), a step's launch overhead, the
 * number of GPUs and RDMA devices, HBM and host memory size. The YAML is
 * written to OUT.tmp, then renamed to OUT, so a failed run leaves none. */
#define _GNU_SOURCE
#include <cublas_v2.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw/bench.h"
#include "hw/cudautil.h"
#include "hw/kvcheck.h"
#include "hw/verbs.h"

struct dp_calib_opts {
    const char *out;
    const char *store_dir;
    const char *name;
    size_t storage_bytes;
    size_t pcie_bytes;
    int reps;
};

struct dp_calib {
    char gpu[256];
    int ngpu, sms, rdma;
    double hbm_bytes, host_bytes;
    double h2d, d2h, hbm_copy, peer;           /* bytes/s */
    double gemm_sq, gemm_pf;                   /* FLOP/s */
    double launch_s;
    int direct;                                /* O_DIRECT worked */
    double st_write, st_read1, st_readn, st_cold, st_warm;  /* bytes/s */
    int st_threads;
};

/* ---- copies ----------------------------------------------------------------- */

struct dp_copy_arg {
    void *dst;
    const void *src;
    size_t bytes;
    int peer;   /* 1: dst on device 1, src on device 0 */
};

static int dp_copy_once(void *arg, cudaStream_t st, struct dp_err *err)
{
    struct dp_copy_arg *a = arg;
    cudaError_t rc = a->peer ? cudaMemcpyPeerAsync(a->dst, 1, a->src, 0, a->bytes, st)
                             : cudaMemcpyAsync(a->dst, a->src, a->bytes, cudaMemcpyDefault, st);
    return dp_cuda_fail(err, rc, "copy");
}

static double dp_copy_rate(void *dst, const void *src, size_t bytes, int peer, int reps,
                           cudaStream_t st, struct dp_err *err)
{
    struct dp_copy_arg a = {dst, src, bytes, peer};
    double t = dp_cuda_time(dp_copy_once, &a, st, 2, reps, err);
    return t > 0 ? (double)bytes / t : -1;
}

static int dp_calib_copies(struct dp_calib *c, const struct dp_calib_opts *o, cudaStream_t st,
                           struct dp_err *err)
{
    size_t n = o->pcie_bytes;
    void *h = NULL, *d0 = NULL, *d1 = NULL;
    cudaError_t rc = cudaHostAlloc(&h, n, cudaHostAllocPortable);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&d0, 2 * n);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&d1, 2 * n);
    int r = dp_cuda_fail(err, rc, "calibrate: buffers");
    if (!r) {
        memset(h, 0x5a, n);   /* touch every page: no first-use cost in the timing */
        c->h2d = dp_copy_rate(d0, h, n, 0, o->reps, st, err);
        c->d2h = dp_copy_rate(h, d0, n, 0, o->reps, st, err);
        double t = dp_copy_rate(d1, d0, 2 * n, 0, o->reps, st, err);
        c->hbm_copy = 2 * t;   /* each byte is read once and written once */
        if (c->h2d < 0 || c->d2h < 0 || t < 0)
            r = DP_EIO;
    }
    if (h)
        DP_CUDA_KEEP(r, err, cudaFreeHost(h));
    if (d0)
        DP_CUDA_KEEP(r, err, cudaFree(d0));
    if (d1)
        DP_CUDA_KEEP(r, err, cudaFree(d1));
    return r;
}

/* GPU0 -> GPU1 copy rate (0 without two GPUs that reach each other); a
 * CUDA failure on the way fails the calibration. */
static int dp_calib_peer(struct dp_calib *c, const struct dp_calib_opts *o, cudaStream_t st,
                         struct dp_err *err)
{
    int can = 0;
    void *s = NULL, *d = NULL;
    c->peer = 0;
    if (c->ngpu < 2)
        return 0;
    int rc = DP_CUDA(err, cudaDeviceCanAccessPeer(&can, 0, 1));
    if (rc || !can)
        return rc;
    cudaError_t pe = cudaDeviceEnablePeerAccess(1, 0);
    if (pe == cudaErrorPeerAccessAlreadyEnabled)
        (void)cudaGetLastError();   /* not sticky: clear it */
    else if ((rc = DP_CUDA(err, pe)))
        return rc;
    if ((rc = DP_CUDA(err, cudaMalloc(&s, o->pcie_bytes))) ||
        (rc = DP_CUDA(err, cudaSetDevice(1))))
        goto out;
    rc = DP_CUDA(err, cudaMalloc(&d, o->pcie_bytes));
    DP_CUDA_KEEP(rc, err, cudaSetDevice(0));
    if (rc)
        goto out;
    c->peer = dp_copy_rate(d, s, o->pcie_bytes, 1, o->reps, st, err);
    if (c->peer < 0)
        rc = DP_EIO;
out:
    if (s)
        DP_CUDA_KEEP(rc, err, cudaFree(s));
    if (d) {
        DP_CUDA_KEEP(rc, err, cudaSetDevice(1));
        DP_CUDA_KEEP(rc, err, cudaFree(d));
    }
    DP_CUDA_KEEP(rc, err, cudaSetDevice(0));
    return rc;
}

/* ---- GEMM --------------------------------------------------------------------- */

struct dp_gemm_arg {
    cublasHandle_t h;
    int m, n, k;
    void *a, *b, *c;
};

static int dp_gemm_once(void *arg, cudaStream_t st, struct dp_err *err)
{
    struct dp_gemm_arg *g = arg;
    const float one = 1.0f, zero = 0.0f;
    (void)st;
    return DP_CUBLAS(err, cublasGemmEx(g->h, CUBLAS_OP_N, CUBLAS_OP_N, g->m, g->n, g->k, &one,
                                       g->a, CUDA_R_16BF, g->m, g->b, CUDA_R_16BF, g->k, &zero,
                                       g->c, CUDA_R_16BF, g->m, CUBLAS_COMPUTE_32F,
                                       CUBLAS_GEMM_DEFAULT));
}

/* FLOP/s of C[m x n] = A[m x k] B[k x n] in bf16 (fp32 accumulate), on
 * random inputs (zeros run faster than real data). */
static double dp_gemm_rate(cublasHandle_t h, int m, int n, int k, int reps, cudaStream_t st,
                           struct dp_err *err)
{
    struct dp_gemm_arg g = {h, m, n, k, NULL, NULL, NULL};
    size_t ea = (size_t)m * k, eb = (size_t)k * n, ec = (size_t)m * n;
    double rate = -1;
    cudaError_t rc = cudaMalloc(&g.a, ea * 2);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&g.b, eb * 2);
    if (rc == cudaSuccess)
        rc = cudaMalloc(&g.c, ec * 2);
    if (rc == cudaSuccess)
        rc = dp_fill_bf16_random(g.a, ea, 11, st);
    if (rc == cudaSuccess)
        rc = dp_fill_bf16_random(g.b, eb, 12, st);
    int frc = dp_cuda_fail(err, rc, "calibrate: GEMM buffers");
    if (!frc) {
        double t = dp_cuda_time(dp_gemm_once, &g, st, 3, reps, err);
        if (t > 0)
            rate = 2.0 * m * n * (double)k / t;
        frc = t > 0 ? 0 : DP_EIO;
    }
    void *bufs[] = {g.a, g.b, g.c};
    for (int i = 0; i < 3; i++)
        if (bufs[i])
            DP_CUDA_KEEP(frc, err, cudaFree(bufs[i]));
    return frc ? -1 : rate;
}

/* A prefill-like GEMM: 4096 tokens through a 7168 -> 18432 projection (the
 * FFN shape of a 7168-wide model), beside the square 8192^3 product. */
static int dp_calib_gemm(struct dp_calib *c, const struct dp_calib_opts *o, cudaStream_t st,
                         struct dp_err *err)
{
    cublasHandle_t h;
    int rc = DP_CUBLAS(err, cublasCreate(&h));
    if (rc)
        return rc;
    rc = DP_CUBLAS(err, cublasSetStream(h, st));
    if (!rc)
        c->gemm_sq = dp_gemm_rate(h, 8192, 8192, 8192, o->reps, st, err);
    if (!rc && c->gemm_sq > 0)
        c->gemm_pf = dp_gemm_rate(h, 18432, 4096, 7168, o->reps, st, err);
    if (!rc && !(c->gemm_sq > 0 && c->gemm_pf > 0))
        rc = DP_EIO;
    struct dp_err why;
    int drc = DP_CUBLAS(&why, cublasDestroy(h));
    if (!rc && drc) {
        rc = drc;
        *err = why;
    }
    return rc;
}

/* ---- launch overhead -------------------------------------------------------- */

static int dp_launch_once(void *arg, cudaStream_t st, struct dp_err *err)
{
    (void)arg;
    for (int i = 0; i < 64; i++) {
        cudaError_t rc = dp_empty_kernel(st);
        if (rc != cudaSuccess)
            return dp_cuda_fail(err, rc, "empty kernel");
    }
    return 0;
}

/* 64 launches (a layer's worth each for a 61-layer model) then a host
 * sync, timed on the host clock: the fixed cost a step pays with no work. */
static double dp_calib_launch(cudaStream_t st, int reps, struct dp_err *err)
{
    double t[64];
    if (reps > 64)
        reps = 64;
    for (int i = -2; i < reps; i++) {
        uint64_t a = dp_clock_ns();
        if (dp_launch_once(NULL, st, err) || DP_CUDA(err, cudaStreamSynchronize(st)))
            return -1;
        if (i >= 0)
            t[i] = (dp_clock_ns() - a) * 1e-9;
    }
    return dp_median(t, reps);
}

/* ---- storage ------------------------------------------------------------------ */

struct dp_rd_arg {
    int fd;
    off_t off;
    size_t len, chunk;
    int ok;
};

static void *dp_rd_thread(void *p)
{
    struct dp_rd_arg *a = p;
    void *buf = NULL;
    a->ok = 0;
    if (posix_memalign(&buf, 4096, a->chunk))
        return NULL;
    for (size_t done = 0; done < a->len;) {
        size_t n = a->len - done < a->chunk ? a->len - done : a->chunk;
        ssize_t k = pread(a->fd, buf, n, a->off + (off_t)done);
        if (k <= 0)
            break;
        done += (size_t)k;
        a->ok = done == a->len;
    }
    free(buf);
    return NULL;
}

/* Read the file with `threads` readers on contiguous parts; bytes/s or -1. */
static double dp_read_rate(const char *path, size_t bytes, int direct, int threads)
{
    pthread_t th[64];
    struct dp_rd_arg a[64];
    int fd = open(path, O_RDONLY | (direct ? O_DIRECT : 0));
    if (fd < 0)
        return -1;
    size_t part = bytes / (size_t)threads / 4096 * 4096;
    uint64_t t0 = dp_clock_ns();
    for (int i = 0; i < threads; i++) {
        a[i] = (struct dp_rd_arg){fd, (off_t)(part * (size_t)i), part, 1 << 20, 0};
        pthread_create(&th[i], NULL, dp_rd_thread, &a[i]);
    }
    int ok = 1;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        ok &= a[i].ok;
    }
    double dt = (dp_clock_ns() - t0) * 1e-9;
    close(fd);
    return ok ? (double)part * threads / dt : -1;
}

/* Write the file (4 MiB writes, fsync); bytes/s or -1. */
static double dp_write_file(const char *path, size_t bytes, int direct)
{
    const size_t chunk = 4u << 20;
    void *buf = NULL;
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | (direct ? O_DIRECT : 0), 0600);
    if (fd < 0 || posix_memalign(&buf, 4096, chunk)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (size_t i = 0; i < chunk / 8; i++)
        ((uint64_t *)buf)[i] = dp_mix64(i);  /* incompressible */
    uint64_t t0 = dp_clock_ns();
    int ok = 1;
    for (size_t done = 0; done < bytes && ok; done += chunk)
        ok = pwrite(fd, buf, chunk, (off_t)done) == (ssize_t)chunk;
    ok = ok && fsync(fd) == 0;
    double dt = (dp_clock_ns() - t0) * 1e-9;
    close(fd);
    free(buf);
    return ok ? (double)bytes / dt : -1;
}

static int dp_calib_storage(struct dp_calib *c, const struct dp_calib_opts *o,
                            struct dp_err *err)
{
    char path[4096];
    size_t bytes = o->storage_bytes / (4u << 20) * (4u << 20);
    snprintf(path, sizeof path, "%s/.dp-calibrate-%d.bin", o->store_dir, (int)getpid());
    c->direct = 1;
    c->st_write = dp_write_file(path, bytes, 1);
    if (c->st_write < 0) {   /* tmpfs and some others refuse O_DIRECT */
        c->direct = 0;
        c->st_write = dp_write_file(path, bytes, 0);
    }
    if (c->st_write < 0) {
        unlink(path);
        return dp_err_set(err, DP_EIO, "calibrate: cannot write %s (%s)", path,
                          strerror(errno));
    }
    c->st_threads = 8;
    if (c->direct) {
        c->st_read1 = dp_read_rate(path, bytes, 1, 1);
        c->st_readn = dp_read_rate(path, bytes, 1, c->st_threads);
    }
    c->st_cold = dp_read_rate(path, bytes, 0, 1);   /* O_DIRECT writes left no cached pages */
    c->st_warm = dp_read_rate(path, bytes, 0, c->st_threads);
    unlink(path);
    if (c->st_cold < 0 || c->st_warm < 0 || (c->direct && (c->st_read1 < 0 || c->st_readn < 0)))
        return dp_err_set(err, DP_EIO, "calibrate: reading %s failed", path);
    return 0;
}

/* ---- the YAML ---------------------------------------------------------------- */

static void dp_calib_name(const struct dp_calib *c, const struct dp_calib_opts *o, char *out,
                          size_t n)
{
    if (o->name) {
        snprintf(out, n, "%s", o->name);
        return;
    }
    /* "NVIDIA H100 80GB HBM3" -> "testbed-nvidia-h100-80gb-hbm3" */
    size_t k = (size_t)snprintf(out, n, "testbed-");
    for (const char *p = c->gpu; *p && k + 1 < n; p++) {
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
            ch = '-';
        if (ch == '-' && out[k - 1] == '-')
            continue;
        out[k++] = ch;
    }
    out[k] = 0;
}

#define DP_GB 1e9

static void dp_calib_yaml(FILE *f, const struct dp_calib *c, const struct dp_calib_opts *o)
{
    char name[128];
    double flops, bw;
    int known = dp_gpu_datasheet(c->gpu, &flops, &bw);
    double st_read = c->direct ? c->st_readn : c->st_warm;
    time_t now = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    dp_calib_name(c, o, name, sizeof name);
    fprintf(f, "# Written by `dualpath hw calibrate` on %d x %s, %s.\n", c->ngpu, c->gpu, when);
    fprintf(f, "# Keys of struct dp_hw (models/model.h); each comment says measured (how) or "
               "assumed.\n");
    fprintf(f, "name: %s  # assumed: from the GPU's name\n", name);
    if (known) {
        fprintf(f, "gpu_flops: %.4g  # datasheet dense bf16 (measured cuBLAS 8192^3: %.1f "
                   "TFLOP/s)\n", flops, c->gemm_sq / 1e12);
    } else {
        flops = c->gemm_sq;
        fprintf(f, "gpu_flops: %.4g  # measured: cuBLAS bf16 GEMM 8192^3 (GPU not in the "
                   "datasheet table)\n", flops);
    }
    fprintf(f, "gpu_hbm_bytes: %.6g  # measured: cudaDeviceProp.totalGlobalMem\n", c->hbm_bytes);
    if (!known)
        bw = c->hbm_copy;
    fprintf(f, "gpu_hbm_bw: %.4g  # %s\n", bw,
            known ? "datasheet" : "measured: device-to-device copy, read+write bytes");
    fprintf(f, "mfu: %.3f  # measured: cuBLAS bf16 GEMM 18432x4096x7168 (prefill-like FFN) "
               "%.1f TFLOP/s / gpu_flops\n", c->gemm_pf / flops, c->gemm_pf / 1e12);
    fprintf(f, "mbu: %.3f  # measured: device-to-device copy %.0f GB/s (read+write) / "
               "gpu_hbm_bw, an upper bound for decode\n", c->hbm_copy / bw, c->hbm_copy / DP_GB);
    fprintf(f, "pcie_bw: %.4g  # measured: pinned 1 GiB cudaMemcpy, min(H2D %.1f, D2H %.1f) "
               "GB/s\n", c->h2d < c->d2h ? c->h2d : c->d2h, c->h2d / DP_GB, c->d2h / DP_GB);
    fprintf(f, "gpus_per_node: %d  # measured: cudaGetDeviceCount\n", c->ngpu);
    if (c->rdma > 0)
        fprintf(f, "cnics_per_node: %d  # measured: RDMA devices (libibverbs)\n", c->rdma);
    else
        fprintf(f, "cnics_per_node: %d  # assumed: no RDMA device; NVLink peer copies stand in, "
                   "one per GPU\n", c->ngpu);
    if (c->peer > 0)
        fprintf(f, "cnic_bw: %.4g  # measured: cudaMemcpyPeer GPU0->GPU1 1 GiB (NVLink stands "
                   "in for the compute NIC)\n", c->peer);
    else
        fprintf(f, "cnic_bw: 5e+10  # assumed: 400 Gbps (the paper's CNIC); %s\n",
                c->ngpu < 2 ? "1 GPU, no peer link to measure" : "peer copy unavailable");
    fprintf(f, "snic_bw: %.4g  # measured: = storage_read_bw (the local store is this "
               "testbed's storage path; the SNIC token bucket may set less)\n", st_read);
    fprintf(f, "dram_buffer_bytes: %.4g  # assumed: a quarter of host memory (%.0f GiB "
               "measured)\n", c->host_bytes / 4, c->host_bytes / 1073741824.0);
    if (c->direct)
        fprintf(f, "storage_read_bw: %.4g  # measured: O_DIRECT 1 MiB preads, %d threads, "
                   "%.0f MiB file in %s (1 thread: %.2f GB/s; page cache cold %.2f, warm %.2f "
                   "GB/s)\n", st_read, c->st_threads, o->storage_bytes / 1048576.0, o->store_dir,
                c->st_read1 / DP_GB, c->st_cold / DP_GB, c->st_warm / DP_GB);
    else
        fprintf(f, "storage_read_bw: %.4g  # measured: page-cache 1 MiB reads, %d threads "
                   "(no O_DIRECT in %s; cold 1 thread %.2f GB/s)\n", st_read, c->st_threads,
                o->store_dir, c->st_cold / DP_GB);
    fprintf(f, "storage_write_bw: %.4g  # measured: %s 4 MiB pwrites + fsync\n", c->st_write,
            c->direct ? "O_DIRECT" : "page-cache");
    fprintf(f, "step_overhead_s: %.3g  # measured: 64 empty kernel launches + a stream sync "
               "(launch cost only; no scheduler)\n", c->launch_s);
}

static int dp_calib_write(const struct dp_calib *c, const struct dp_calib_opts *o,
                          struct dp_err *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->out);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return dp_err_set(err, DP_EIO, "calibrate: cannot write %s: %s", tmp, strerror(errno));
    dp_calib_yaml(f, c, o);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, o->out) != 0) {
        unlink(tmp);
        return dp_err_set(err, DP_EIO, "calibrate: cannot write %s", o->out);
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */

static int dp_calib_parse(struct dp_calib_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"store-dir", required_argument, 0, 'd'},
        {"storage-mib", required_argument, 0, 's'}, {"name", required_argument, 0, 'n'},
        {"quick", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:d:s:n:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': o->out = optarg; break;
        case 'd': o->store_dir = optarg; break;
        case 's': o->storage_bytes = (size_t)strtoull(optarg, NULL, 10) << 20; break;
        case 'n': o->name = optarg; break;
        case 'q': o->storage_bytes = 256u << 20; o->pcie_bytes = 256u << 20; o->reps = 3; break;
        default:
            fprintf(stderr, "usage: dualpath hw calibrate [-o FILE (hw-calibrated.yaml)] "
                            "[--store-dir DIR (.)] [--storage-mib N (2048)] [--name NAME] "
                            "[--quick]\n");
            return 2;
        }
    }
    if (o->storage_bytes < (4u << 20)) {
        fprintf(stderr, "dualpath hw calibrate: --storage-mib must be >= 4\n");
        return 2;
    }
    return 0;
}

static void dp_calib_print(const struct dp_calib *c)
{
    printf("device=%s\ngpus=%d\nhbm_bytes=%.0f\n", c->gpu, c->ngpu, c->hbm_bytes);
    printf("h2d_bulk_GBps=%.2f\nd2h_bulk_GBps=%.2f\n", c->h2d / DP_GB, c->d2h / DP_GB);
    printf("hbm_copy_rw_GBps=%.1f\n", c->hbm_copy / DP_GB);
    printf("gemm_8192_TFLOPs=%.1f\ngemm_prefill_18432x4096x7168_TFLOPs=%.1f\n",
           c->gemm_sq / 1e12, c->gemm_pf / 1e12);
    printf("launch64_sync_us=%.1f\n", c->launch_s * 1e6);
    if (c->ngpu >= 2)
        printf("peer_bulk_GBps=%.2f\n", c->peer / DP_GB);
    else
        printf("peer_bulk_GBps=n/a (1 GPU)\n");
    printf("storage_o_direct=%s\n", c->direct ? "yes" : "no");
    printf("storage_write_GBps=%.3f\n", c->st_write / DP_GB);
    if (c->direct)
        printf("storage_direct_read_1t_GBps=%.3f\nstorage_direct_read_%dt_GBps=%.3f\n",
               c->st_read1 / DP_GB, c->st_threads, c->st_readn / DP_GB);
    printf("storage_pagecache_cold_1t_GBps=%.3f\nstorage_pagecache_warm_%dt_GBps=%.3f\n",
           c->st_cold / DP_GB, c->st_threads, c->st_warm / DP_GB);
    printf("rdma_devices=%d\n", c->rdma);
}

static int dp_calib_run(struct dp_calib *c, const struct dp_calib_opts *o, struct dp_err *err)
{
    struct cudaDeviceProp p;
    cudaStream_t st;
    int rc = dp_cuda_require(1, &c->ngpu, err);
    if (rc || (rc = DP_CUDA(err, cudaSetDevice(0))))
        return rc;
    if ((rc = dp_cuda_fail(err, cudaGetDeviceProperties(&p, 0), "cudaGetDeviceProperties")))
        return rc;
    snprintf(c->gpu, sizeof c->gpu, "%s", p.name);
    c->sms = p.multiProcessorCount;
    c->hbm_bytes = (double)p.totalGlobalMem;
    c->host_bytes = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    c->rdma = dp_verbs_device_count();
    if ((rc = dp_cuda_fail(err, cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking),
                           "stream")))
        return rc;
    rc = dp_calib_copies(c, o, st, err);
    if (!rc)
        rc = dp_calib_gemm(c, o, st, err);
    if (!rc) {
        c->launch_s = dp_calib_launch(st, o->reps, err);
        if (c->launch_s < 0)
            rc = DP_EIO;
    }
    if (!rc)
        rc = dp_calib_peer(c, o, st, err);
    if (!rc)
        rc = dp_calib_storage(c, o, err);
    DP_CUDA_KEEP(rc, err, cudaStreamDestroy(st));
    return rc;
}

int dp_hw_calibrate_main(int argc, char **argv)
{
    struct dp_calib_opts o = {"hw-calibrated.yaml", ".", NULL, 2048u << 20, 1u << 30, 10};
    struct dp_calib c;
    struct dp_err err = {{0}};
    memset(&c, 0, sizeof c);
    int rc = dp_calib_parse(&o, argc, argv);
    if (rc)
        return rc;
    rc = dp_calib_run(&c, &o, &err);
    if (!rc)
        rc = dp_calib_write(&c, &o, &err);
    if (rc) {
        fprintf(stderr, "dualpath hw calibrate: %s\n", err.msg);
        return 1;
    }
    dp_calib_print(&c);
    printf("wrote=%s\n", o.out);
    return 0;
}
