/* The content of a KV block, derived from (session, block, layer).
 *
 * Every block the shim stores, moves or computes on carries bytes that are a
 * pure function of its identity, so any copy can be checked anywhere (CPU
 * after a storage read, GPU in the attention pass) without keeping a
 * reference copy: a block that arrives wrong, stale, or not at all is
 * counted. Shared by C and CUDA: every function is inline and marked for
 * both host and device.
 *
 * Word i (8 bytes) of a block is dp_mix64(seed + i * golden) (base/hash.h),
 * seed from the tag: one multiply-xorshift chain per word keeps filling and
 * checking far faster than the links being measured. */
#ifndef DP_HW_KVFILL_H
#define DP_HW_KVFILL_H

#include <stdint.h>
#include <stddef.h>

#include "base/hash.h"

#ifdef __CUDACC__
#define DP_HD static __host__ __device__ __forceinline__
#else
#define DP_HD static inline
#endif

/* Identity of one layer slice of one KV block. */
struct dp_kv_tag {
    uint64_t session;
    uint32_t block;
    uint32_t layer;
};

#define DP_KV_GOLDEN 0x9e3779b97f4a7c15ULL

DP_HD uint64_t dp_kv_seed(uint64_t session, uint32_t block, uint32_t layer)
{
    uint64_t s = dp_mix64(session ^ 0x5a17c0de5a17c0deULL);
    return dp_mix64(s ^ (((uint64_t)block << 24) | (uint64_t)layer));
}

DP_HD uint64_t dp_kv_word(uint64_t seed, uint64_t i)
{
    return dp_mix64(seed + i * DP_KV_GOLDEN);
}

/* Fill `bytes` (a multiple of 8) of a block with its content. */
DP_HD void dp_kv_fill_host(void *buf, size_t bytes, uint64_t session, uint32_t block,
                           uint32_t layer)
{
    uint64_t seed = dp_kv_seed(session, block, layer);
    uint64_t *w = (uint64_t *)buf;
    for (size_t i = 0; i < bytes / 8; i++)
        w[i] = dp_kv_word(seed, i);
}

/* 1 when `bytes` of buf hold exactly the block's content, 0 otherwise. */
DP_HD int dp_kv_check_host(const void *buf, size_t bytes, uint64_t session, uint32_t block,
                           uint32_t layer)
{
    uint64_t seed = dp_kv_seed(session, block, layer);
    const uint64_t *w = (const uint64_t *)buf;
    uint64_t diff = 0;
    for (size_t i = 0; i < bytes / 8; i++)
        diff |= w[i] ^ dp_kv_word(seed, i);
    return diff == 0;
}

#endif
