/* The registry of scheduling policies, and helpers they share. */
#include "core/policy.h"

#include <string.h>

extern const struct dp_policy_ops dp_policy_basic;
extern const struct dp_policy_ops dp_policy_dualpath;
extern const struct dp_policy_ops dp_policy_oracle;
extern const struct dp_policy_ops dp_policy_de_only;

static const struct dp_policy_ops *const registry[] = {
    &dp_policy_basic,
    &dp_policy_dualpath,
    &dp_policy_oracle,
    &dp_policy_de_only,
};
#define N_POLICIES (sizeof registry / sizeof registry[0])

const struct dp_policy_ops *dp_policy_find(const char *name)
{
    for (size_t i = 0; i < N_POLICIES; i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

int dp_policy_check(const char *name, const char *where, struct dp_err *err)
{
    if (dp_policy_find(name))
        return 0;
    char list[256] = "";
    for (size_t i = 0; i < N_POLICIES; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, registry[i]->name, sizeof list - strlen(list) - 1);
    }
    return dp_err_set(err, DP_EINVAL, "%s: field 'policy.name': unknown policy '%s' (known: %s)", where,
                      name, list);
}

const char *const *dp_policy_names(void)
{
    static const char *names[N_POLICIES + 1];
    for (size_t i = 0; i < N_POLICIES; i++)
        names[i] = registry[i]->name;
    names[N_POLICIES] = NULL;
    return names;
}

/* Prefill load: new tokens waiting or being computed, plus what is still
 * to be read for it, in token-equivalents. Ties go to the lower index. */
uint32_t dp_pick_least_loaded_pe(const struct dp_cluster_view *v)
{
    uint32_t best = 0;
    double best_load = 0;
    for (uint32_t k = 0; k < dp_candidates(v->n_pe); k++) {
        uint32_t i = dp_candidate(v, v->n_pe, k);
        const struct dp_engine *e = &v->pes[i];
        double load = (double)e->pending_tokens;
        if (k == 0 || load < best_load) {
            best = i;
            best_load = load;
        }
    }
    return best;
}

/* Decode load: requests running, moving in and waiting for admission. */
uint32_t dp_pick_least_loaded_de(const struct dp_cluster_view *v)
{
    uint32_t best = 0;
    double best_load = 0;
    for (uint32_t k = 0; k < dp_candidates(v->n_de); k++) {
        uint32_t i = dp_candidate(v, v->n_de, k);
        const struct dp_engine *e = &v->des[i];
        double load = (double)e->n_running + e->n_incoming + e->admit_q.n;
        if (k == 0 || load < best_load) {
            best = i;
            best_load = load;
        }
    }
    return best;
}

double dp_read_eta(const struct dp_engine *e, double bytes)
{
    return (e->read_q_bytes + bytes) / e->hw.snic_bw;
}
