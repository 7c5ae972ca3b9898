/* A checking layer between core and any platform, for the conformance tests
 * (test_conformance.c, test_conformance_hw.c): core is created on
 * seam_check_ops with a struct seam_check that forwards every op to the
 * platform under test and watches what crosses the seam from core's side.
 * Completions go from the platform to core directly; core itself checks
 * rules 1-3 of core/platform.h on them (exactly once, status set, never
 * re-entrant) and stops the run with DP_ESTATE when one is broken.
 *
 * What the layer checks (rule 4, a request's life):
 *  - no op names a request after its release;
 *  - each request is released exactly once;
 *  - after the run and dp_core_destroy(), every request issued was released.
 * seam_check_end() asserts those, core's verdict, and that every op issued
 * completed (for a run that ended by itself). Header-only. */
#ifndef DP_TEST_SEAM_CHECK_H
#define DP_TEST_SEAM_CHECK_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "core/core.h"
#include "core/request.h"

struct seam_check {
    const struct dp_platform_ops *inner;
    void *plat;
    uint8_t *released;          /* by request id: 0 live or unseen, 1 released */
    size_t cap;
    uint64_t releases, named;   /* release calls; request references in ops */
    char broken[256];           /* the first rule-4 breach, or "" */
};

static inline void seam_breach(struct seam_check *k, const char *what, uint64_t id)
{
    if (!k->broken[0])
        snprintf(k->broken, sizeof k->broken, "%s (request %llu)", what, (unsigned long long)id);
}

static inline uint8_t *seam_slot(struct seam_check *k, uint64_t id)
{
    if (id >= k->cap) {
        size_t old = k->cap;
        uint8_t *p = dp_grow(k->released, &k->cap, id + 1, 1, 1024);
        ck_assert_ptr_nonnull(p);
        memset(p + old, 0, k->cap - old);
        k->released = p;
    }
    return &k->released[id];
}

static inline void seam_named(struct seam_check *k, const struct dp_request *r)
{
    if (!r)
        return;
    k->named++;
    if (*seam_slot(k, r->id))
        seam_breach(k, "an op names a released request", r->id);
}

static inline dp_time_t seam_now(void *p)
{
    struct seam_check *k = p;
    return k->inner->now(k->plat);
}
static inline int seam_move(void *p, struct dp_xfer *x)
{
    struct seam_check *k = p;
    seam_named(k, x->req);
    for (uint32_t i = 0; x->reqs && i < x->n_reqs; i++)
        seam_named(k, x->reqs[i]);
    return k->inner->move(k->plat, x);
}
static inline int seam_compute(void *p, struct dp_compute *c)
{
    struct seam_check *k = p;
    for (uint32_t i = 0; c->reqs && i < c->n_reqs; i++)
        seam_named(k, c->reqs[i]);
    return k->inner->compute(k->plat, c);
}
static inline int seam_timer(void *p, struct dp_timer *t)
{
    struct seam_check *k = p;
    return k->inner->timer(k->plat, t);
}
static inline void seam_counters(void *p, int32_t e, struct dp_link_counters *out)
{
    struct seam_check *k = p;
    k->inner->counters(k->plat, e, out);
}
static inline void seam_release(void *p, struct dp_request *r)
{
    struct seam_check *k = p;
    uint8_t *rel = seam_slot(k, r->id);
    if (*rel)
        seam_breach(k, "released twice", r->id);
    *rel = 1;
    k->releases++;
    if (k->inner->release)
        k->inner->release(k->plat, r);
}

static const struct dp_platform_ops seam_check_ops __attribute__((unused)) = {
    .name = "seam-check",
    .now = seam_now,
    .move = seam_move,
    .compute = seam_compute,
    .timer = seam_timer,
    .counters = seam_counters,
    .release = seam_release,
};

static inline void seam_check_init(struct seam_check *k, const struct dp_platform_ops *inner,
                                   void *plat)
{
    memset(k, 0, sizeof *k);
    k->inner = inner;
    k->plat = plat;
}

/* After the loop, before dp_core_destroy: core found no broken rule; with
 * `finished` (the run ended by itself, not stopped), every op issued
 * completed and every request issued was released. */
static inline void seam_check_run(struct seam_check *k, struct dp_core *core, int finished)
{
    struct dp_err err = { "" };
    struct dp_seam_stats s;
    ck_assert_msg(dp_core_error(core, &err) == 0, "%s", err.msg);
    ck_assert_msg(!k->broken[0], "%s", k->broken);
    dp_core_seam_stats(core, &s);
    ck_assert_uint_gt(s.moves, 0);
    ck_assert_uint_gt(s.computes, 0);
    ck_assert_uint_gt(k->named, 0);
    if (finished) {
        ck_assert_uint_eq(s.moves_done, s.moves);
        ck_assert_uint_eq(s.computes_done, s.computes);
        ck_assert_uint_eq(s.releases, s.requests);
        ck_assert_uint_eq(k->releases, s.requests);
    }
    ck_assert_uint_le(s.moves_done, s.moves);
    ck_assert_uint_le(s.computes_done, s.computes);
    ck_assert_uint_le(s.timers_done, s.timers);
}

/* After dp_core_destroy: every request of the run was released once. */
static inline void seam_check_end(struct seam_check *k, uint64_t requests)
{
    ck_assert_msg(!k->broken[0], "%s", k->broken);
    ck_assert_uint_eq(k->releases, requests);
    for (uint64_t id = 0; id < requests; id++)
        ck_assert_msg(id < k->cap && k->released[id], "request %llu never released",
                      (unsigned long long)id);
    free(k->released);
    k->released = NULL;
}

#endif
