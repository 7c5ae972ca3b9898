/* Small CUDA helpers (cudautil.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    cudaEvent_t a, b;
    double t[64];
    if (reps > 64)
        reps = 64;
    if (cudaEventCreate(&a) != cudaSuccess || cudaEventCreate(&b) != cudaSuccess) {
        dp_err_set(err, DP_EIO, "cudaEventCreate failed");
        return -1;
    }
    double out = -1;
    for (int i = 0; i < warm; i++)
        if (fn(arg, stream, err) != 0)
            goto done;
    for (int i = 0; i < reps; i++) {
        float ms = 0;
        cudaEventRecord(a, stream);
        if (fn(arg, stream, err) != 0)
            goto done;
        cudaEventRecord(b, stream);
        cudaError_t rc = cudaEventSynchronize(b);
        if (rc != cudaSuccess) {
            dp_cuda_fail(err, rc, "timed run");
            goto done;
        }
        cudaEventElapsedTime(&ms, a, b);
        t[i] = ms * 1e-3;
    }
    out = dp_median(t, reps);
done:
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return out;
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
