/* Batched copies of many scattered fixed-size KV blocks.
 *
 * One cudaMemcpyAsync per 64 KiB block is launch-bound (3% of NVLink on the
 * testbed, testbed.md), so blocks move in batches: one gather/scatter kernel
 * for the whole batch, or one cudaMemcpyBatchAsync call (copy engines, no
 * SMs). Both take arrays of (dst, src) pointers; any pointer the running
 * device can address works: its own HBM, mapped pinned host memory (H2D,
 * D2H over PCIe) or a peer GPU's HBM once peer access is enabled. */
#ifndef DP_HW_BLOCKCOPY_H
#define DP_HW_BLOCKCOPY_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copy n blocks of `bytes` each (a multiple of 16; pointers 16-byte aligned)
 * from src[i] to dst[i] with one kernel launch on `stream` (current device).
 * dst and src are arrays the device can read (device memory or mapped pinned
 * host memory); they must stay valid until the kernel has run. ctas = 0
 * picks dp_blockcopy_default_ctas(). */
cudaError_t dp_blockcopy_gather(void *const *dst, const void *const *src, uint32_t n,
                                size_t bytes, unsigned ctas, cudaStream_t stream);

/* Grid for the gather kernel: `per_sm` CTAs of 512 threads on each SM. */
unsigned dp_blockcopy_ctas(int device, unsigned per_sm);
unsigned dp_blockcopy_default_ctas(int device);

/* The same batch through cudaMemcpyBatchAsync (CUDA >= 12.8): host arrays
 * dst_h, src_h, sizes_h of n entries, read during the call. Returns
 * cudaErrorNotSupported when the toolkit has no batched copy. */
cudaError_t dp_blockcopy_batch(void *const *dst_h, const void *const *src_h,
                               const size_t *sizes_h, uint32_t n, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
