/* Batched block copies: one kernel for n scattered blocks (see blockcopy.h).
 *
 * One CTA copies one block at a time (grid-stride over blocks); each thread
 * issues all its 16-byte loads before its first store, so a CTA keeps a whole
 * 64 KiB block in flight. Over PCIe (mapped host memory) latency is a few
 * microseconds, and hundreds of CTAs with 64 KiB outstanding each hide it. */
#include <string.h>

#include "hw/blockcopy.h"

#define DP_BC_THREADS 512
#define DP_BC_UNROLL 8

__global__ void __launch_bounds__(DP_BC_THREADS)
dp_gather_kernel(void *const *__restrict__ dst, const void *const *__restrict__ src,
                 uint32_t n, uint64_t vecs)
{
    const uint64_t step = (uint64_t)DP_BC_THREADS * DP_BC_UNROLL;
    for (uint32_t b = blockIdx.x; b < n; b += gridDim.x) {
        const uint4 *s = (const uint4 *)src[b];
        uint4 *d = (uint4 *)dst[b];
        for (uint64_t base = 0; base < vecs; base += step) {
            uint4 r[DP_BC_UNROLL];
#pragma unroll
            for (int k = 0; k < DP_BC_UNROLL; k++) {
                uint64_t v = base + threadIdx.x + (uint64_t)k * DP_BC_THREADS;
                if (v < vecs)
                    r[k] = __ldcs(s + v);   /* streamed: read once, keep out of L2 */
            }
#pragma unroll
            for (int k = 0; k < DP_BC_UNROLL; k++) {
                uint64_t v = base + threadIdx.x + (uint64_t)k * DP_BC_THREADS;
                if (v < vecs)
                    d[v] = r[k];
            }
        }
    }
}

extern "C" unsigned dp_blockcopy_ctas(int device, unsigned per_sm)
{
    int sms = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess ||
        sms <= 0)
        sms = 132;
    return (unsigned)sms * (per_sm ? per_sm : 4);
}

extern "C" unsigned dp_blockcopy_default_ctas(int device)
{
    return dp_blockcopy_ctas(device, 4);
}

extern "C" cudaError_t dp_blockcopy_gather(void *const *dst, const void *const *src, uint32_t n,
                                           size_t bytes, unsigned ctas, cudaStream_t stream)
{
    if (n == 0)
        return cudaSuccess;
    if (bytes % 16 != 0)
        return cudaErrorInvalidValue;
    if (ctas == 0) {
        int dev = 0;
        cudaError_t rc = cudaGetDevice(&dev);
        if (rc != cudaSuccess)
            return rc;
        ctas = dp_blockcopy_default_ctas(dev);
    }
    if (ctas > n)
        ctas = n;
    dp_gather_kernel<<<ctas, DP_BC_THREADS, 0, stream>>>(dst, src, n, bytes / 16);
    return cudaGetLastError();
}

extern "C" cudaError_t dp_blockcopy_batch(void *const *dst_h, const void *const *src_h,
                                          const size_t *sizes_h, uint32_t n,
                                          cudaStream_t stream)
{
#if defined(CUDART_VERSION) && CUDART_VERSION >= 12080
    if (n == 0)
        return cudaSuccess;
    struct cudaMemcpyAttributes attr;
    memset(&attr, 0, sizeof attr);
    attr.srcAccessOrder = cudaMemcpySrcAccessOrderStream;
    attr.flags = cudaMemcpyFlagPreferOverlapWithCompute;
    size_t idx = 0;
#if CUDART_VERSION >= 13000
    return cudaMemcpyBatchAsync(dst_h, (const void **)src_h, sizes_h, n, &attr, &idx, 1,
                                stream);
#else
    size_t fail = 0;
    return cudaMemcpyBatchAsync((void **)dst_h, (void **)src_h, (size_t *)sizes_h, n, &attr,
                                &idx, 1, &fail, stream);
#endif
#else
    (void)dst_h; (void)src_h; (void)sizes_h; (void)n; (void)stream;
    return cudaErrorNotSupported;
#endif
}
