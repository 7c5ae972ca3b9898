/* Small CUDA helpers (cudautil.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cublas_v2.h>

#include "hw/cudautil.h"

int dp_cuda_fail(struct dp_err *err, cudaError_t rc, const char *what)
{
    if (rc == cudaSuccess)
        return 0;
    int code = DP_EIO;
    if (rc == cudaErrorNoDevice || rc == cudaErrorInsufficientDriver ||
        rc == cudaErrorInitializationError || rc == cudaErrorCompatNotSupportedOnDevice ||
        rc == cudaErrorSystemNotReady || rc == cudaErrorNotSupported)
        code = DP_ENODEV;
    if (rc == cudaErrorMemoryAllocation)
        code = DP_ENOMEM;
    return dp_err_set(err, code, "%s: %s (%s)", what, cudaGetErrorString(rc),
                      cudaGetErrorName(rc));
}

/* "hw/x.c" of a compiler's (absolute) path: the folder and the file. */
static const char *dp_src_name(const char *file)
{
    const char *last = strrchr(file, '/');
    if (!last)
        return file;
    const char *prev = last;
    while (prev > file && prev[-1] != '/')
        prev--;
    return prev;
}

/* The called function's name: the call's text up to its '('. */
static int dp_call_len(const char *call)
{
    return (int)strcspn(call, "( ");
}

int dp_cuda_check(struct dp_err *err, cudaError_t rc, const char *call, const char *file,
                  int line)
{
    if (rc == cudaSuccess)
        return 0;
    char what[160];
    snprintf(what, sizeof what, "%s:%d: %.*s", dp_src_name(file), line, dp_call_len(call), call);
    return dp_cuda_fail(err, rc, what);
}

int dp_cublas_check(struct dp_err *err, int status, const char *call, const char *file,
                    int line)
{
    if (status == CUBLAS_STATUS_SUCCESS)
        return 0;
    int code = status == CUBLAS_STATUS_ALLOC_FAILED ? DP_ENOMEM
             : status == CUBLAS_STATUS_NOT_INITIALIZED || status == CUBLAS_STATUS_ARCH_MISMATCH
                 ? DP_ENODEV
                 : DP_EIO;
    return dp_err_set(err, code, "%s:%d: %.*s: %s (cuBLAS status %d)", dp_src_name(file), line,
                      dp_call_len(call), call, cublasGetStatusString((cublasStatus_t)status),
                      status);
}

int dp_cuda_require(int need, int *count, struct dp_err *err)
{
    int n = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess || n == 0) {
        const char *why = rc != cudaSuccess ? cudaGetErrorString(rc) : "no device listed";
        return dp_err_set(err, DP_ENODEV, "no CUDA device: %s", why);
    }
    if (n < need)
        return dp_err_set(err, DP_ENODEV, "%d GPU(s) found, %d needed", n, need);
    if (count)
        *count = n;
    return 0;
}

int dp_cuda_require_mem(size_t bytes, const char *for_what, struct dp_err *err)
{
    size_t freeb = 0, total = 0;
    cudaError_t rc = cudaMemGetInfo(&freeb, &total);
    if (rc != cudaSuccess)
        return dp_cuda_fail(err, rc, "cudaMemGetInfo");
    if (freeb < bytes)
        return dp_err_set(err, DP_ENOMEM,
                          "not enough HBM for %s: %.2f GiB needed, %.2f GiB free of %.2f",
                          for_what, bytes / 1073741824.0, freeb / 1073741824.0,
                          total / 1073741824.0);
    return 0;
}

uint64_t dp_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int dp_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double dp_median(double *v, int n)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, dp_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double dp_cuda_time(dp_timed_fn fn, void *arg, cudaStream_t stream, int warm, int reps,
                    struct dp_err *err)
{
    cudaEvent_t a = NULL, b = NULL;
    double t[64];
    if (reps > 64)
        reps = 64;
    double out = -1;
    int rc = DP_CUDA(err, cudaEventCreate(&a));
    if (!rc)
        rc = DP_CUDA(err, cudaEventCreate(&b));
    for (int i = 0; !rc && i < warm; i++)
        rc = fn(arg, stream, err);
    for (int i = 0; !rc && i < reps; i++) {
        float ms = 0;
        if ((rc = DP_CUDA(err, cudaEventRecord(a, stream))) || (rc = fn(arg, stream, err)) ||
            (rc = DP_CUDA(err, cudaEventRecord(b, stream))) ||
            (rc = DP_CUDA(err, cudaEventSynchronize(b))) ||
            (rc = DP_CUDA(err, cudaEventElapsedTime(&ms, a, b))))
            break;
        t[i] = ms * 1e-3;
    }
    if (!rc)
        out = dp_median(t, reps);
    if (a)
        DP_CUDA_KEEP(rc, err, cudaEventDestroy(a));
    if (b)
        DP_CUDA_KEEP(rc, err, cudaEventDestroy(b));
    return rc ? -1 : out;
}

int dp_gpu_datasheet(const char *name, double *flops, double *hbm_bw)
{
    /* Dense bf16 without sparsity; HBM per the vendor's datasheets. */
    static const struct { const char *key; double flops, bw; } tab[] = {
        {"H100 PCIe", 756e12, 2.0e12},
        {"H100 NVL", 835e12, 3.9e12},
        {"H100", 989.4e12, 3.35e12},      /* SXM5 80 GB */
        {"H200", 989.4e12, 4.8e12},
        {"H800", 989.4e12, 3.35e12},
        {"H20", 148e12, 4.0e12},
        {"A100", 312e12, 2.039e12},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strstr(name, tab[i].key)) {
            *flops = tab[i].flops;
            *hbm_bw = tab[i].bw;
            return 1;
        }
    return 0;
}
