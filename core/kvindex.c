#include "core/kvindex.h"

#include <stdlib.h>
#include <string.h>

static inline size_t slot_of(uint64_t k, size_t cap)
{
    /* splitmix64 finaliser: hash ids are often small consecutive integers */
    k ^= k >> 30; k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27; k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return (size_t)k & (cap - 1);
}

void dp_kvindex_init(struct dp_kvindex *ix) { memset(ix, 0, sizeof *ix); }

void dp_kvindex_free(struct dp_kvindex *ix)
{
    free(ix->keys);
    memset(ix, 0, sizeof *ix);
}

static int grow(struct dp_kvindex *ix)
{
    size_t cap = ix->cap ? ix->cap * 2 : 1024;
    uint64_t *keys = calloc(cap, sizeof *keys);
    if (!keys)
        return -1;
    for (size_t i = 0; i < ix->cap; i++) {
        uint64_t k = ix->keys[i];
        if (!k)
            continue;
        size_t s = slot_of(k, cap);
        while (keys[s])
            s = (s + 1) & (cap - 1);
        keys[s] = k;
    }
    free(ix->keys);
    ix->keys = keys;
    ix->cap = cap;
    return 0;
}

int dp_kvindex_insert(struct dp_kvindex *ix, uint64_t key)
{
    if (key == 0) {
        ix->has_zero = 1;
        return 0;
    }
    if ((ix->n + 1) * 10 >= ix->cap * 7 && grow(ix))
        return -1;
    size_t s = slot_of(key, ix->cap);
    while (ix->keys[s]) {
        if (ix->keys[s] == key)
            return 0;
        s = (s + 1) & (ix->cap - 1);
    }
    ix->keys[s] = key;
    ix->n++;
    return 0;
}

int dp_kvindex_contains(const struct dp_kvindex *ix, uint64_t key)
{
    if (key == 0)
        return ix->has_zero;
    if (!ix->cap)
        return 0;
    size_t s = slot_of(key, ix->cap);
    while (ix->keys[s]) {
        if (ix->keys[s] == key)
            return 1;
        s = (s + 1) & (ix->cap - 1);
    }
    return 0;
}

uint32_t dp_kvindex_match(const struct dp_kvindex *ix, const uint64_t *keys, uint32_t n)
{
    uint32_t i = 0;
    while (i < n && dp_kvindex_contains(ix, keys[i]))
        i++;
    return i;
}
