/* The KV block index (kvindex.h) on base's u64 map. */
#include "core/kvindex.h"

int dp_kvindex_init(struct dp_kvindex *ix) { return dp_u64map_init(&ix->set, 1024, 0); }

void dp_kvindex_free(struct dp_kvindex *ix) { dp_u64map_free(&ix->set); }

int dp_kvindex_insert(struct dp_kvindex *ix, uint64_t key)
{
    return dp_u64map_put(&ix->set, key, 0);
}

int dp_kvindex_contains(const struct dp_kvindex *ix, uint64_t key)
{
    return dp_u64map_get(&ix->set, key, NULL);
}

uint32_t dp_kvindex_match(const struct dp_kvindex *ix, const uint64_t *keys, uint32_t n)
{
    uint32_t i = 0;
    while (i < n && dp_kvindex_contains(ix, keys[i]))
        i++;
    return i;
}
