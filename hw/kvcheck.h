/* Device-side KV content: fill blocks in HBM with their derived bytes, and
 * count the blocks whose bytes are wrong (kvfill.h gives the content). The
 * verify pass is also the shim's stand-in for attention's KV read: it reads
 * every byte of every block once. */
#ifndef DP_HW_KVCHECK_H
#define DP_HW_KVCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "hw/kvfill.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ptrs and tags: n entries in memory the device reads (device or mapped
 * host); bytes a multiple of 16. */
cudaError_t dp_kv_fill_dev(void *const *ptrs, const struct dp_kv_tag *tags, uint32_t n,
                           size_t bytes, cudaStream_t stream);

/* Add to *bad (device memory, or mapped host) the number of blocks whose
 * content differs from their tag's; a NULL pointer counts as wrong. */
cudaError_t dp_kv_verify_dev(const void *const *ptrs, const struct dp_kv_tag *tags, uint32_t n,
                             size_t bytes, unsigned long long *bad, cudaStream_t stream);

/* n bf16 values, uniform in [-1, 1), from seed (GEMM inputs: never zeros). */
cudaError_t dp_fill_bf16_random(void *p, size_t n, uint64_t seed, cudaStream_t stream);

/* An empty kernel (launch-overhead probe). */
cudaError_t dp_empty_kernel(cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
