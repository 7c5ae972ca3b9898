/* DualPath: the paper's global scheduler. Per request it picks the PE, the
 * DE and how the request's cached blocks are split between the PE read path
 * (storage -> PE DRAM over the PE's storage NIC) and the DE read path
 * (storage -> DE DRAM over the DE's storage NIC, then RDMA into the PE's HBM
 * layer by layer). core/README.md records each decision the paper leaves
 * open; in short:
 *  - PE: fewest pending tokens (compute balance), ties to the shorter read queue.
 *  - DE: among DEs with room to admit at once (or, when none has, those
 *    within DE_SLACK of the least decode load), the one whose storage read
 *    queue drains first (storage balance across all NICs).
 *  - Path: each side's read finishes after its queue drains; the blocks are
 *    split so both sides finish together (a water level over two NICs), or,
 *    with split off, the whole read goes to the side that finishes first.
 *    An idle PE keeps the short path: the DE path is taken only when the PE
 *    side would finish de_read_threshold x later than the DE side. */
#include <math.h>
#include <stdlib.h>

#include "core/policy.h"

#define DE_SLACK 4.0

static uint32_t pick_pe(const struct dp_cluster_view *v)
{
    uint32_t best = dp_candidate(v, v->n_pe, 0);
    for (uint32_t k = 1; k < dp_candidates(v->n_pe); k++) {
        uint32_t i = dp_candidate(v, v->n_pe, k);
        const struct dp_engine *a = &v->pes[i], *b = &v->pes[best];
        if (a->pending_tokens < b->pending_tokens ||
            (a->pending_tokens == b->pending_tokens && a->read_q_bytes < b->read_q_bytes))
            best = i;
    }
    return best;
}

static double decode_load(const struct dp_engine *e)
{
    return (double)e->n_running + e->n_incoming + e->admit_q.n;
}

/* A DE with room in its running set admits a request at once, so for
 * decode all such DEs are alike and storage decides among them. When none
 * has room, the least loaded ones (within DE_SLACK) are the candidates. */
static int de_candidate(const struct dp_cluster_view *v, const struct dp_engine *e, double least)
{
    if (least < v->sc->sched.decode_max_batch)
        return decode_load(e) < v->sc->sched.decode_max_batch;
    return decode_load(e) <= least + DE_SLACK;
}

static uint32_t pick_de(const struct dp_cluster_view *v)
{
    uint32_t n = dp_candidates(v->n_de);
    double least = INFINITY;
    for (uint32_t k = 0; k < n; k++)
        least = fmin(least, decode_load(&v->des[dp_candidate(v, v->n_de, k)]));
    uint32_t best = UINT32_MAX;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = dp_candidate(v, v->n_de, k);
        const struct dp_engine *e = &v->des[i];
        if (!de_candidate(v, e, least))
            continue;
        if (best == UINT32_MAX || dp_read_eta(e, 0) < dp_read_eta(&v->des[best], 0))
            best = i;
    }
    return best;
}

/* Blocks to read over the DE path so both sides' reads end together:
 * (qp + (B - x) b) / bp = (qd + x b) / bd, solved for x, clamped to [0, B]. */
static uint32_t balance_split(const struct dp_engine *pe, const struct dp_engine *de,
                              uint32_t blocks, double block_bytes)
{
    double bp = pe->hw.snic_bw, bd = de->hw.snic_bw;
    double x = (bd * (pe->read_q_bytes + blocks * block_bytes) - bp * de->read_q_bytes) /
               ((bp + bd) * block_bytes);
    if (x <= 0)
        return 0;
    if (x >= blocks)
        return blocks;
    return (uint32_t)llround(x);
}

static void dualpath_route(void *state, const struct dp_cluster_view *v,
                           const struct dp_request *r, struct dp_route *out)
{
    uint32_t pi = pick_pe(v), di = pick_de(v);
    const struct dp_engine *pe = &v->pes[pi], *de = &v->des[di];
    out->pe = (int32_t)pi;
    out->de = (int32_t)di;
    out->de_blocks = 0;
    if (!r->cached_blocks)
        return;
    double block_bytes = r->block_tokens * r->kv_tok;
    double bytes = r->cached_blocks * block_bytes;
    double eta_pe = dp_read_eta(pe, bytes), eta_de = dp_read_eta(de, bytes);
    if (eta_pe <= eta_de * v->sc->policy.de_read_threshold)
        return;   /* the short path is no slower: keep it */
    if (!v->sc->policy.split) {
        out->de_blocks = r->cached_blocks;
        return;
    }
    out->de_blocks = balance_split(pe, de, r->cached_blocks, block_bytes);
}

const struct dp_policy_ops dp_policy_dualpath = {
    .name = "dualpath",
    .summary = "PE and DE read paths, split to balance every storage NIC's queue",
    .route = dualpath_route,
};
