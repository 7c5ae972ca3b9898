/* Small CUDA helpers for the shim: error lines, device checks, timing. */
#ifndef DP_HW_CUDAUTIL_H
#define DP_HW_CUDAUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "base/errors.h"

/* Fill err with "WHAT: cuda error string" and return DP_EIO (DP_ENODEV when
 * the error means there is no usable device or driver); 0 when rc is ok. */
int dp_cuda_fail(struct dp_err *err, cudaError_t rc, const char *what);

/* CUDACHECK in the manner of NCCL's, without aborting: evaluate a CUDA
 * runtime (DP_CUDA) or cuBLAS (DP_CUBLAS) call; 0 when it succeeded, else
 * the DP_E* code (dp_cuda_fail's mapping; DP_ENOMEM, DP_EIO for cuBLAS) with
 * err holding "hw/FILE.c:LINE: FUNCTION: error string (name)". Library code
 * checks every call that can fail with one of these and passes the code up;
 * nothing here exits the process. */
#define DP_CUDA(err, call) dp_cuda_check((err), (call), #call, __FILE__, __LINE__)
#define DP_CUBLAS(err, call) dp_cublas_check((err), (int)(call), #call, __FILE__, __LINE__)
/* Teardown: run the call whatever came before, keep the first failure in rc
 * (and err), so every resource is released and none of the faults is lost. */
#define DP_CUDA_KEEP(rc, err, call)                                               \
    do {                                                                          \
        cudaError_t dp_keep_ = (call);                                            \
        if (!(rc))                                                                \
            (rc) = dp_cuda_check((err), dp_keep_, #call, __FILE__, __LINE__);     \
    } while (0)
int dp_cuda_check(struct dp_err *err, cudaError_t rc, const char *call, const char *file,
                  int line);
int dp_cublas_check(struct dp_err *err, int status, const char *call, const char *file,
                    int line);

/* Count the CUDA devices; fewer than `need` is an error with one clear line
 * ("no CUDA device: ..." or "N GPU(s) found, M needed"). */
int dp_cuda_require(int need, int *count, struct dp_err *err);

/* Host monotonic clock, ns. */
uint64_t dp_clock_ns(void);

/* Median of n doubles (sorts v in place). */
double dp_median(double *v, int n);

/* Free memory of the current device must be at least `bytes`. */
int dp_cuda_require_mem(size_t bytes, const char *for_what, struct dp_err *err);

/* Time `reps` runs of fn(arg) on `stream` with events (after `warm` runs);
 * returns the median in seconds, or a negative value when fn fails (err
 * says why). */
typedef int (*dp_timed_fn)(void *arg, cudaStream_t stream, struct dp_err *err);
double dp_cuda_time(dp_timed_fn fn, void *arg, cudaStream_t stream, int warm, int reps,
                    struct dp_err *err);

/* Datasheet figures of known GPUs, matched by name: dense bf16 FLOP/s and
 * HBM bytes/s. Returns 0 when the name is unknown. */
int dp_gpu_datasheet(const char *name, double *flops, double *hbm_bw);

#endif
