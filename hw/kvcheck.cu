/* Fill and verify KV blocks in device memory (kvcheck.h). One CTA per block
 * at a time, grid-stride over blocks; 16-byte accesses. */
#include "hw/kvcheck.h"

#define DP_KV_THREADS 256

/* 8 CTAs per SM of the current device, at most one per block. */
static cudaError_t dp_kv_grid(uint32_t n, unsigned *grid)
{
    int dev = 0, sms = 0;
    cudaError_t rc = cudaGetDevice(&dev);
    if (rc == cudaSuccess)
        rc = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    unsigned g = (unsigned)(sms > 0 ? sms : 132) * 8;
    *grid = g < n ? g : n;
    return rc;
}

__global__ void __launch_bounds__(DP_KV_THREADS)
dp_kv_fill_kernel(void *const *ptrs, const struct dp_kv_tag *tags, uint32_t n, uint64_t vecs)
{
    for (uint32_t b = blockIdx.x; b < n; b += gridDim.x) {
        struct dp_kv_tag t = tags[b];
        uint64_t seed = dp_kv_seed(t.session, t.block, t.layer);
        ulonglong2 *p = (ulonglong2 *)ptrs[b];
        for (uint64_t v = threadIdx.x; v < vecs; v += DP_KV_THREADS) {
            ulonglong2 x;
            x.x = dp_kv_word(seed, 2 * v);
            x.y = dp_kv_word(seed, 2 * v + 1);
            p[v] = x;
        }
    }
}

__global__ void __launch_bounds__(DP_KV_THREADS)
dp_kv_verify_kernel(const void *const *ptrs, const struct dp_kv_tag *tags, uint32_t n,
                    uint64_t vecs, unsigned long long *bad)
{
    for (uint32_t b = blockIdx.x; b < n; b += gridDim.x) {
        const ulonglong2 *p = (const ulonglong2 *)ptrs[b];
        struct dp_kv_tag t = tags[b];
        uint64_t seed = dp_kv_seed(t.session, t.block, t.layer);
        uint64_t diff = (p == NULL);
        if (p != NULL) {
#pragma unroll 4
            for (uint64_t v = threadIdx.x; v < vecs; v += DP_KV_THREADS) {
                ulonglong2 x = __ldcs(p + v);
                diff |= x.x ^ dp_kv_word(seed, 2 * v);
                diff |= x.y ^ dp_kv_word(seed, 2 * v + 1);
            }
        }
        if (__syncthreads_or(diff != 0) && threadIdx.x == 0)
            atomicAdd(bad, 1ULL);
    }
}

__global__ void dp_bf16_kernel(unsigned short *p, size_t n, uint64_t seed)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        /* uniform float in [-1, 1), rounded down to bf16 (its top 16 bits) */
        float f = (float)(dp_kv_word(seed, i) >> 40) * (1.0f / 8388608.0f) - 1.0f;
        p[i] = (unsigned short)(__float_as_uint(f) >> 16);
    }
}

__global__ void dp_empty(void) {}

extern "C" cudaError_t dp_kv_fill_dev(void *const *ptrs, const struct dp_kv_tag *tags,
                                      uint32_t n, size_t bytes, cudaStream_t stream)
{
    if (n == 0)
        return cudaSuccess;
    if (bytes % 16 != 0)
        return cudaErrorInvalidValue;
    unsigned grid = 0;
    cudaError_t rc = dp_kv_grid(n, &grid);
    if (rc != cudaSuccess)
        return rc;
    dp_kv_fill_kernel<<<grid, DP_KV_THREADS, 0, stream>>>(ptrs, tags, n, bytes / 16);
    return cudaGetLastError();
}

extern "C" cudaError_t dp_kv_verify_dev(const void *const *ptrs, const struct dp_kv_tag *tags,
                                        uint32_t n, size_t bytes, unsigned long long *bad,
                                        cudaStream_t stream)
{
    if (n == 0)
        return cudaSuccess;
    if (bytes % 16 != 0)
        return cudaErrorInvalidValue;
    unsigned grid = 0;
    cudaError_t rc = dp_kv_grid(n, &grid);
    if (rc != cudaSuccess)
        return rc;
    dp_kv_verify_kernel<<<grid, DP_KV_THREADS, 0, stream>>>(ptrs, tags, n, bytes / 16, bad);
    return cudaGetLastError();
}

extern "C" cudaError_t dp_fill_bf16_random(void *p, size_t n, uint64_t seed,
                                           cudaStream_t stream)
{
    if (n == 0)
        return cudaSuccess;
    dp_bf16_kernel<<<1024, 256, 0, stream>>>((unsigned short *)p, n, dp_mix64(seed));
    return cudaGetLastError();
}

extern "C" cudaError_t dp_empty_kernel(cudaStream_t stream)
{
    dp_empty<<<1, 32, 0, stream>>>();
    return cudaGetLastError();
}
