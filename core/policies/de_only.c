/* de_only: an example of a user-added policy (core/README.md walks through
 * it). Every KV read takes the DE read path; engines as Basic chooses them.
 * Useful as a bound: it loads only the decode engines' storage NICs. */
#include "core/policy.h"

static void de_only_route(void *state, const struct dp_cluster_view *v,
                          const struct dp_request *r, struct dp_route *out)
{
    out->pe = (int32_t)dp_pick_least_loaded_pe(v);
    out->de = (int32_t)dp_pick_least_loaded_de(v);
    out->de_blocks = r->cached_blocks;
}

const struct dp_policy_ops dp_policy_de_only = {
    .name = "de_only",
    .summary = "example policy: every read over the decode engine's path",
    .route = de_only_route,
};
