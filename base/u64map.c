/* The u64 map (u64map.h). */
#include "base/u64map.h"

#include <stdlib.h>
#include <string.h>

#include "base/errors.h"
#include "base/hash.h"

#define EMPTY UINT64_MAX

static int alloc_table(struct dp_u64map *m, size_t cap)
{
    uint64_t *keys = malloc(cap * sizeof *keys);
    uint64_t *vals = m->set ? NULL : malloc(cap * sizeof *vals);
    if (!keys || (!m->set && !vals)) {
        free(keys);
        free(vals);
        return DP_ENOMEM;
    }
    memset(keys, 0xff, cap * sizeof *keys);   /* every slot EMPTY */
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int dp_u64map_init(struct dp_u64map *m, size_t expect, int with_vals)
{
    memset(m, 0, sizeof *m);
    m->set = !with_vals;
    size_t cap = 64;
    while (cap / 4 * 3 < expect && cap < ((size_t)1 << 40))
        cap *= 2;
    return alloc_table(m, cap);
}

void dp_u64map_free(struct dp_u64map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct dp_u64map *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)dp_mix64(key) & mask;
    while (m->keys[i] != EMPTY && m->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

int dp_u64map_get(const struct dp_u64map *m, uint64_t key, uint64_t *val)
{
    if (key == EMPTY) {
        if (m->has_empty_key && val)
            *val = m->empty_val;
        return m->has_empty_key;
    }
    if (!m->cap)
        return 0;
    size_t i = slot_of(m, key);
    if (m->keys[i] == EMPTY)
        return 0;
    if (val)
        *val = m->vals ? m->vals[i] : 0;
    return 1;
}

static int grow(struct dp_u64map *m)
{
    struct dp_u64map old = *m;
    if (alloc_table(m, old.cap ? old.cap * 2 : 64)) {
        *m = old;
        return DP_ENOMEM;
    }
    for (size_t i = 0; i < old.cap; i++) {
        if (old.keys[i] == EMPTY)
            continue;
        size_t j = slot_of(m, old.keys[i]);
        m->keys[j] = old.keys[i];
        if (m->vals)
            m->vals[j] = old.vals[i];
    }
    free(old.keys);
    free(old.vals);
    return 0;
}

int dp_u64map_put(struct dp_u64map *m, uint64_t key, uint64_t val)
{
    if (key == EMPTY) {
        if (!m->has_empty_key) {
            m->has_empty_key = 1;
            m->empty_val = val;
        }
        return 0;
    }
    /* load at most 3/4: linear probing stays short */
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m))
        return DP_ENOMEM;
    size_t i = slot_of(m, key);
    if (m->keys[i] != EMPTY)
        return 0;
    m->keys[i] = key;
    if (m->vals)
        m->vals[i] = val;
    m->n++;
    return 0;
}
