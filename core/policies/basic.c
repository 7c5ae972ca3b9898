/* Basic: the paper's baseline. Every KV-Cache read goes storage -> PE over
 * the PE's storage NIC; PE and DE are the least loaded (or round robin). */
#include <stdlib.h>

#include "core/policy.h"

struct basic_state {
    uint32_t rr_pe, rr_de;
};

static int basic_init(const struct dp_cluster_view *v, void **state, struct dp_err *err)
{
    struct basic_state *s = calloc(1, sizeof *s);
    if (!s)
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    *state = s;
    return 0;
}

static void basic_route(void *state, const struct dp_cluster_view *v, const struct dp_request *r,
                        struct dp_route *out)
{
    struct basic_state *s = state;
    if (v->sc->policy.pe_select == DP_SEL_ROUND_ROBIN) {
        out->pe = (int32_t)(s->rr_pe++ % v->n_pe);
        out->de = (int32_t)(s->rr_de++ % v->n_de);
    } else {
        out->pe = (int32_t)dp_pick_least_loaded_pe(v);
        out->de = (int32_t)dp_pick_least_loaded_de(v);
    }
    out->de_blocks = 0;
}

const struct dp_policy_ops dp_policy_basic = {
    .name = "basic",
    .summary = "PE read path only; least-loaded (or round-robin) PE and DE",
    .init = basic_init,
    .route = basic_route,
    .fini = free,
};

/* Oracle: Basic's choices with storage I/O free, the paper's upper bound. */
const struct dp_policy_ops dp_policy_oracle = {
    .name = "oracle",
    .summary = "no storage bandwidth limit (upper bound); otherwise Basic",
    .storage_unlimited = 1,
    .init = basic_init,
    .route = basic_route,
    .fini = free,
};
