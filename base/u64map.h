/* A map from 64-bit keys to 64-bit values (or a set, without values):
 * open addressing with linear probing over a power-of-two table, load at
 * most 3/4. Every key is allowed: the one that marks empty slots
 * (UINT64_MAX) is kept aside. Insert-only (nothing here removes a key).
 *
 * A zeroed struct is an empty map (with values); dp_u64map_init() sizes
 * one and may make it a set (no values: half the memory). The owner frees
 * it with dp_u64map_free(). */
#ifndef DP_BASE_U64MAP_H
#define DP_BASE_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct dp_u64map {
    uint64_t *keys;
    uint64_t *vals;     /* NULL for a set */
    size_t cap, n;      /* cap: 0 or a power of two */
    int set;            /* 1: no values (dp_u64map_init(..., 0)) */
    int has_empty_key;  /* the empty marker stored as a key, aside */
    uint64_t empty_val;
};

/* Room for `expect` keys without growing; values or not. 0 or DP_ENOMEM. */
int dp_u64map_init(struct dp_u64map *m, size_t expect, int with_vals);
void dp_u64map_free(struct dp_u64map *m);
/* 1 and *val (when val is not NULL; 0 for a set) if present, else 0. */
int dp_u64map_get(const struct dp_u64map *m, uint64_t key, uint64_t *val);
/* Insert key -> val, or leave an existing key's value. 0 or DP_ENOMEM. */
int dp_u64map_put(struct dp_u64map *m, uint64_t key, uint64_t val);

#endif
