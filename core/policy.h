/* Scheduling policies: which prefill engine (PE), which decode engine (DE)
 * and which read path serve a request. A policy is a table of operations
 * registered by name, in the manner of rdma-core providers: core calls
 * route() once per request at issue time, with the engines' live state.
 *
 * To add a policy: write core/policies/NAME.c defining a
 * `const struct dp_policy_ops dp_policy_NAME`, list it in core/policy.c's
 * table and in core/CMakeLists.txt; core/README.md walks through an example. */
#ifndef DP_POLICY_H
#define DP_POLICY_H

#include <stdint.h>

#include "core/engine.h"
#include "base/errors.h"
#include "core/request.h"
#include "core/scenario.h"

struct dp_route {
    int32_t pe;                 /* index into pes[] */
    int32_t de;                 /* index into des[] */
    uint32_t de_blocks;         /* cached blocks read over the DE path (rest: PE path) */
};

/* What a policy may look at. Engines are live: read, never write. */
struct dp_cluster_view {
    const struct dp_scenario *sc;
    const struct dp_engine *pes;
    uint32_t n_pe;
    const struct dp_engine *des;
    uint32_t n_de;
    double kv_tok;              /* KV bytes per token, all layers */
    dp_time_t now;
    uint64_t seq;               /* decisions so far: rotates ties between equal engines */
};

struct dp_policy_ops {
    const char *name;
    const char *summary;
    /* The Oracle bound: storage reads cost nothing (KV appears in the PE's
     * DRAM at once); everything after that is simulated as usual. */
    int storage_unlimited;
    int (*init)(const struct dp_cluster_view *v, void **state, struct dp_err *err);
    void (*route)(void *state, const struct dp_cluster_view *v, const struct dp_request *r,
                  struct dp_route *out);
    void (*fini)(void *state);
};

const struct dp_policy_ops *dp_policy_find(const char *name);
/* Names of the registered policies, NULL-terminated. */
const char *const *dp_policy_names(void);
/* 0 if name is a registered policy, else DP_EINVAL with "WHERE: field
 * 'policy.name': unknown policy 'NAME' (known: ...)" in err. */
int dp_policy_check(const char *name, const char *where, struct dp_err *err);

/* The engines one decision looks at. Up to DP_SCAN_ALL engines of a role,
 * all of them, in an order rotated by v->seq (so ties between equally
 * loaded engines go round robin and an idle cluster spreads work). Beyond,
 * DP_SAMPLE engines picked by hashing (v->seq, k): the "power of d choices",
 * which keeps a decision O(1) on a 10,000-GPU cluster while balancing load
 * nearly as well as a full scan. Deterministic: same run, same choices. */
#define DP_SCAN_ALL 64
#define DP_SAMPLE 16
static inline uint32_t dp_candidates(uint32_t n)
{
    return n <= DP_SCAN_ALL ? n : DP_SAMPLE;
}
static inline uint32_t dp_candidate(const struct dp_cluster_view *v, uint32_t n, uint32_t k)
{
    if (n <= DP_SCAN_ALL)
        return (uint32_t)((v->seq + k) % n);
    uint64_t x = v->seq * 0x9e3779b97f4a7c15ULL + (k + 1) * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 31;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 29;
    return (uint32_t)(x % n);
}

/* Helpers shared by policies (over the candidates above). */
uint32_t dp_pick_least_loaded_pe(const struct dp_cluster_view *v);
uint32_t dp_pick_least_loaded_de(const struct dp_cluster_view *v);
/* Seconds until an engine's storage NIC drains its read queue plus `bytes`. */
double dp_read_eta(const struct dp_engine *e, double bytes);

#endif
