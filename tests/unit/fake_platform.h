/* A scripted fake platform for unit tests: every transfer takes 1 us plus
 * bytes at 10 GB/s, every compute 100 us, timers fire on time. It proves
 * that core needs nothing but the seam (core/platform.h), and lets tests
 * watch each operation core issues (the `seen` hook), fail chosen ones
 * (the `status_of` hook: the status the op completes with) and count the
 * releases. Header-only. */
#ifndef DP_TEST_FAKE_PLATFORM_H
#define DP_TEST_FAKE_PLATFORM_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"
#include "core/core.h"


enum { F_XFER, F_COMPUTE, F_TIMER };
struct fake_ev {
    dp_time_t t;
    uint64_t seq;
    int what;
    void *desc;
};
struct fake {
    struct fake_ev *ev;
    size_t n, cap;
    uint64_t seq;
    dp_time_t now;
    struct dp_core *core;
    uint64_t moves, computes, bytes_read, releases;
    void (*seen_compute)(struct fake *f, const struct dp_compute *k);
    /* The status an op completes with (0 when NULL): x for a transfer, k
     * for a compute, the other NULL. */
    int (*status_of)(struct fake *f, struct dp_xfer *x, struct dp_compute *k);
    void *user;
};

static inline int fake_push(struct fake *f, dp_time_t t, int what, void *desc)
{
    struct fake_ev *ev = dp_grow(f->ev, &f->cap, f->n + 1, sizeof *ev, 256);
    if (!ev)
        return DP_ENOMEM;
    f->ev = ev;
    f->ev[f->n++] = (struct fake_ev){ t, f->seq++, what, desc };
    return 0;
}
static inline dp_time_t fake_now(void *p) { return ((struct fake *)p)->now; }
static inline int fake_move(void *p, struct dp_xfer *x)
{
    struct fake *f = p;
    f->moves++;
    if (x->kind == DP_X_STORAGE_READ)
        f->bytes_read += x->bytes;
    return fake_push(f, f->now + 1000 + x->bytes / 10, F_XFER, x);   /* 10 GB/s, 1 us */
}
static inline int fake_compute(void *p, struct dp_compute *k)
{
    struct fake *f = p;
    f->computes++;
    if (f->seen_compute)
        f->seen_compute(f, k);
    return fake_push(f, f->now + 100000, F_COMPUTE, k);              /* 100 us */
}
static inline int fake_timer(void *p, struct dp_timer *t)
{
    struct fake *f = p;
    return fake_push(f, t->at > f->now ? t->at : f->now, F_TIMER, t);
}
static inline void fake_counters(void *p, int32_t e, struct dp_link_counters *out)
{
    memset(out, 0, sizeof *out);
}
static inline void fake_release(void *p, struct dp_request *r)
{
    ((struct fake *)p)->releases++;
}
static const struct dp_platform_ops fake_ops __attribute__((unused)) = {
    .name = "fake",
    .now = fake_now,
    .move = fake_move,
    .compute = fake_compute,
    .timer = fake_timer,
    .counters = fake_counters,
    .release = fake_release,
};

/* Pop the earliest (time, seq): a linear scan is plenty for a test. */
static inline int fake_step(struct fake *f)
{
    if (!f->n)
        return 0;
    size_t best = 0;
    for (size_t i = 1; i < f->n; i++)
        if (f->ev[i].t < f->ev[best].t ||
            (f->ev[i].t == f->ev[best].t && f->ev[i].seq < f->ev[best].seq))
            best = i;
    struct fake_ev e = f->ev[best];
    f->ev[best] = f->ev[--f->n];
    ck_assert_uint_ge(e.t, f->now);
    f->now = e.t;
    if (e.what == F_XFER) {
        struct dp_xfer *x = e.desc;
        x->status = (int8_t)(f->status_of ? f->status_of(f, x, NULL) : 0);
        dp_core_on_transfer_done(f->core, x);
    } else if (e.what == F_COMPUTE) {
        struct dp_compute *k = e.desc;
        k->status = (int8_t)(f->status_of ? f->status_of(f, NULL, k) : 0);
        dp_core_on_compute_done(f->core, k);
    } else
        dp_core_on_timer(f->core, e.desc);
    return 1;
}


/* Create a core on the fake platform (f's hooks set by the caller are kept),
 * run it to the end, and check it finished every turn without error. */
static inline void fake_run(struct fake *f, const struct dp_scenario *s, const struct dp_workload *w)
{
    struct dp_err err = { "" };
    ck_assert_msg(dp_core_create(&f->core, s, w, &fake_ops, f, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(dp_core_start(f->core), 0);
    while (!dp_core_done(f->core) && fake_step(f))
        ;
    ck_assert(dp_core_done(f->core));
    ck_assert_int_eq(dp_core_error(f->core, &err), 0);
    ck_assert_uint_eq(dp_core_requests_done(f->core), dp_workload_total_turns(w));
}

#endif
