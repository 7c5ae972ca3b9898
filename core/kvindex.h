/* The KV block index: which prefix blocks storage holds. Keys are block
 * hash ids (Mooncake traces) or (session, block) keys of agent sessions: a
 * set of 64-bit keys (base/u64map.h). Storage is the home of every block
 * and is unbounded, so nothing is ever evicted. */
#ifndef DP_KVINDEX_H
#define DP_KVINDEX_H

#include <stdint.h>

#include "base/u64map.h"

struct dp_kvindex {
    struct dp_u64map set;
};

/* 0 or DP_ENOMEM. */
int dp_kvindex_init(struct dp_kvindex *ix);
void dp_kvindex_free(struct dp_kvindex *ix);
/* 0 or DP_ENOMEM. */
int dp_kvindex_insert(struct dp_kvindex *ix, uint64_t key);
int dp_kvindex_contains(const struct dp_kvindex *ix, uint64_t key);
/* Number of leading keys present. */
uint32_t dp_kvindex_match(const struct dp_kvindex *ix, const uint64_t *keys, uint32_t n);

#endif
