/* 64-bit hashing: splitmix64's finaliser, the one mixing function of the
 * project (hash-map slots, KV block content, seeds derived from ids).
 * Header-only, libc only; usable from CUDA device code too (kvfill.h). */
#ifndef DP_BASE_HASH_H
#define DP_BASE_HASH_H

#include <stdint.h>

#ifdef __CUDACC__
#define DP_HASH_FN __host__ __device__ static inline
#else
#define DP_HASH_FN static inline
#endif

/* splitmix64's finaliser (Steele, Lea, Flood 2014): a bijection of the
 * 64-bit integers with full avalanche, so dense small ids (trace hash ids,
 * block numbers) spread over every bit. */
DP_HASH_FN uint64_t dp_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* splitmix64 as a generator: the next value of the sequence at *state. */
DP_HASH_FN uint64_t dp_splitmix64(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ULL;
    return dp_mix64(*state);
}

#endif
