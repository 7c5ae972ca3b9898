/* The flow-level link model. Every expected rate and time below is computed
 * by hand in the comment beside it. Units: bw in bytes/s; with 1e9 B/s a
 * byte takes exactly 1 ns, which keeps the arithmetic readable. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"
#include "base/evq.h"
#include "sim/links.h"

#define GB 1e9

/* Check writes a record per passing assertion; the random runs make
 * millions of checks, so only call into Check when one fails. */
#define QUICK(cond) do { if (!(cond)) ck_assert_msg(0, "%s", #cond); } while (0)

/* ---- a tiny simulator loop ------------------------------------------- */

static struct {
    struct dp_evq q;
    struct dp_net net;
    uint64_t now;
    int eager;               /* settle before every pop (the simplest loop) */
    uint64_t settles;
    void (*after_settle)(void);
} S;

static void setup(void)
{
    ck_assert_int_eq(dp_evq_init(&S.q), 0);
    ck_assert_int_eq(dp_net_init(&S.net, &S.q), 0);
    S.now = 0;
    S.eager = 0;
    S.settles = 0;
    S.after_settle = NULL;
}

static void teardown(void)
{
    dp_net_free(&S.net);
    dp_evq_free(&S.q);
}

/* The loop contract of links.h: settle while dirty before time advances
 * (or, with S.eager, before every pop). */
static void run(void)
{
    for (;;) {
        struct dp_ev *ev = dp_evq_peek(&S.q);
        if (dp_net_dirty(&S.net) && (S.eager || !ev || ev->t > S.now)) {
            dp_net_settle(&S.net, S.now);
            S.settles++;
            if (S.after_settle)
                S.after_settle();
            continue;
        }
        if (!ev)
            break;
        ev = dp_evq_pop(&S.q);
        QUICK(ev->t >= S.now);
        S.now = ev->t;
        ev->fn(ev, ev->ctx);
    }
    ck_assert_int_eq(S.net.err, 0);
}

static uint32_t link(const char *name, double bw)
{
    int id = dp_net_add_link(&S.net, name, bw);
    ck_assert_int_ge(id, 0);
    return (uint32_t)id;
}

struct tflow {
    struct dp_flow f;
    uint64_t done_at;
    int n_done;
    void (*then)(struct tflow *t);   /* run inside done() */
};

static void on_done(struct dp_flow *f, void *ctx)
{
    struct tflow *t = ctx;
    QUICK(&t->f == f && !f->active);
    t->done_at = S.now;
    t->n_done++;
    if (t->then)
        t->then(t);
}

static void start(struct tflow *t, unsigned lane, double bytes, int n_path, ...)
{
    uint32_t path[DP_PATH_MAX];
    va_list ap;
    va_start(ap, n_path);
    for (int i = 0; i < n_path; i++)
        path[i] = va_arg(ap, uint32_t);
    va_end(ap);
    ck_assert_int_eq(dp_flow_start(&S.net, &t->f, path, (unsigned)n_path, lane,
                                   bytes, S.now, on_done, t), 0);
}

#define ck_assert_rate(f, want) \
    ck_assert_double_eq_tol((f).rate, (want), fabs(want) * 1e-12 + 1e-9)

/* ---- hand-computed cases ---------------------------------------------- */

START_TEST(one_flow_alone)
{
    uint32_t l = link("l", 1 * GB);
    uint32_t m = link("m", 10 * GB);
    struct tflow a = {0}, b = {0};
    /* a: 1000 B at 1 GB/s = 1000 ns. */
    start(&a, 0, 1000, 1, l);
    /* b: 12345 B at 10 GB/s = 1234.5 ns, rounded up to 1235. */
    start(&b, 0, 12345, 1, m);
    dp_net_settle(&S.net, 0);
    ck_assert_rate(a.f, 1 * GB);
    ck_assert_rate(b.f, 10 * GB);
    ck_assert_double_eq(S.net.links[l].rate, 1 * GB);
    run();
    ck_assert_uint_eq(a.done_at, 1000);
    ck_assert_uint_eq(b.done_at, 1235);
    ck_assert_int_eq(a.n_done, 1);
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, m, S.now), 12345, 1e-6);
    ck_assert_uint_eq(S.net.n_flows_active, 0);
}
END_TEST

START_TEST(two_flows_share_equally)
{
    uint32_t l = link("l", 1 * GB);
    struct tflow a = {0}, b = {0};
    /* 1 GB/s / 2 = 0.5 GB/s each; 1000 B at 0.5 B/ns = 2000 ns. */
    start(&a, 0, 1000, 1, l);
    start(&b, 0, 1000, 1, l);
    dp_net_settle(&S.net, 0);
    ck_assert_rate(a.f, 0.5 * GB);
    ck_assert_rate(b.f, 0.5 * GB);
    run();
    ck_assert_uint_eq(a.done_at, 2000);
    ck_assert_uint_eq(b.done_at, 2000);
}
END_TEST

START_TEST(classic_maxmin_three_links)
{
    /* L1 = 10, L2 = 4, L3 = 1 GB/s.
     * A: L1+L2, B: L1, C: L2.
     *   shares: L1 10/2 = 5, L2 4/2 = 2 -> L2 is the bottleneck:
     *   A = C = 2; L1 has 10 - 2 = 8 left for B alone: B = 8. */
    uint32_t l1 = link("l1", 10 * GB), l2 = link("l2", 4 * GB);
    uint32_t l3 = link("l3", 1 * GB);
    struct tflow a = {0}, b = {0}, c = {0}, d = {0};
    start(&a, 0, 1e6, 2, l1, l2);
    start(&b, 0, 1e6, 1, l1);
    start(&c, 0, 1e6, 1, l2);
    dp_net_settle(&S.net, 0);
    ck_assert_rate(a.f, 2 * GB);
    ck_assert_rate(b.f, 8 * GB);
    ck_assert_rate(c.f, 2 * GB);
    ck_assert_double_eq_tol(S.net.links[l1].rate, 10 * GB, 1e-3);
    ck_assert_double_eq_tol(S.net.links[l2].rate, 4 * GB, 1e-3);

    /* Add D: L2+L3.
     *   shares: L1 10/2 = 5, L2 4/3 = 1.33, L3 1/1 = 1 -> L3: D = 1.
     *   then L2 (4-1)/2 = 1.5, L1 10/2 = 5 -> L2: A = C = 1.5.
     *   then L1 (10-1.5)/1 = 8.5 -> B = 8.5. */
    start(&d, 0, 1e6, 2, l2, l3);
    dp_net_settle(&S.net, 0);
    ck_assert_rate(a.f, 1.5 * GB);
    ck_assert_rate(b.f, 8.5 * GB);
    ck_assert_rate(c.f, 1.5 * GB);
    ck_assert_rate(d.f, 1 * GB);
    run();
    ck_assert_int_eq(a.n_done + b.n_done + c.n_done + d.n_done, 4);
}
END_TEST

START_TEST(end_frees_bandwidth)
{
    uint32_t l = link("l", 1 * GB);
    struct tflow a = {0}, b = {0};
    /* A 1000 B, B 3000 B, both at 0.5 GB/s: A ends at 2000 ns, when B has
     * 2000 B left; alone at 1 GB/s B needs 2000 ns more: ends at 4000. */
    start(&a, 0, 1000, 1, l);
    start(&b, 0, 3000, 1, l);
    run();
    ck_assert_uint_eq(a.done_at, 2000);
    ck_assert_uint_eq(b.done_at, 4000);
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, l, S.now), 4000, 1e-9);
}
END_TEST

START_TEST(end_frees_bandwidth_rounding)
{
    uint32_t l = link("l", 3 * GB);
    struct tflow a = {0}, b = {0};
    /* 1.5 GB/s each. A: 1000 / 1.5 = 666.67 ns -> ends at 667.
     * B at 667 ns has 2000 - 1.5 * 667 = 999.5 B left, alone at 3 GB/s:
     * 333.17 ns -> 334 -> ends at 1001 (1 ns later than exact 1000: each
     * completion rounds up, time never goes back). */
    start(&a, 0, 1000, 1, l);
    start(&b, 0, 2000, 1, l);
    run();
    ck_assert_uint_eq(a.done_at, 667);
    ck_assert_uint_eq(b.done_at, 1001);
    /* Still exactly 3000 B carried: the overshoot is not counted. */
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, l, S.now), 3000, 1e-9);
}
END_TEST

START_TEST(overshoot_not_counted)
{
    uint32_t l = link("l", 3 * GB);
    struct tflow a = {0}, b = {0};
    /* A and B, 1000 B each at 1.5 GB/s: 666.67 ns, both due at 667. With a
     * settle between the two completions (the eager loop), B is seen at
     * 667 with 1000 - 1.5 * 667 = -0.5 B left: the half byte it "moved"
     * past its end must not be counted. The link carried 2000 B. */
    S.eager = 1;
    start(&a, 0, 1000, 1, l);
    start(&b, 0, 1000, 1, l);
    run();
    ck_assert_uint_eq(a.done_at, 667);
    ck_assert_uint_eq(b.done_at, 667);
    ck_assert_double_eq(b.f.remaining, 0);
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, l, S.now), 2000, 1e-9);
}
END_TEST

START_TEST(tiny_flow_not_before_floor)
{
    uint32_t l = link("l", 1 * GB);
    struct tflow a = {0}, b = {0};
    /* 1e-7 B is "complete" at once (below 1e-6 B), but no flow ends before
     * bytes / bw allows, rounded up: ceil(1e-7 ns) = 1 ns. 0.5 B: 0.5 ns -> 1. */
    start(&a, 0, 1e-7, 1, l);
    start(&b, 0, 0.5, 1, l);
    run();
    ck_assert_uint_eq(a.done_at, 1);
    ck_assert_uint_eq(b.done_at, 1);
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, l, S.now), 0.5 + 1e-7, 1e-12);
}
END_TEST

START_TEST(strict_priority)
{
    uint32_t l = link("l", 1 * GB);
    struct tflow h = {0}, lo = {0};
    /* Lane 0 takes the whole 1 GB/s; lane 1 gets 0 and has no completion
     * pending. H ends at 1000 ns; then L gets 1 GB/s: 1000 ns -> 2000. */
    start(&h, 0, 1000, 1, l);
    start(&lo, 1, 1000, 1, l);
    dp_net_settle(&S.net, 0);
    ck_assert_rate(h.f, 1 * GB);
    ck_assert_double_eq(lo.f.rate, 0);
    ck_assert(!dp_ev_pending(&lo.f.done_ev));
    run();
    ck_assert_uint_eq(h.done_at, 1000);
    ck_assert_uint_eq(lo.done_at, 2000);
}
END_TEST

START_TEST(priority_leftover)
{
    /* L1 = 1 GB/s, L2 = 0.25 GB/s. H (lane 0) on L1+L2 is held to 0.25 by
     * L2; L (lane 1) on L1 gets what is left: 0.75 GB/s. */
    uint32_t l1 = link("l1", 1 * GB), l2 = link("l2", 0.25 * GB);
    struct tflow h = {0}, lo = {0};
    start(&h, 0, 1e6, 2, l1, l2);
    start(&lo, 1, 1e6, 1, l1);
    dp_net_settle(&S.net, 0);
    ck_assert_rate(h.f, 0.25 * GB);
    ck_assert_rate(lo.f, 0.75 * GB);
    run();
}
END_TEST

START_TEST(two_lanes_two_links)
{
    /* L1 = 10, L2 = 6 GB/s (10 and 6 B/ns).
     * A lane 0 on L1+L2 (3000 B), B lane 0 on L2 (6000 B), C lane 1 on L1
     * (14000 B).
     * lane 0: L1 share 10/1, L2 6/2 = 3 -> A = B = 3.  lane 1: L1 has
     * 10 - 3 = 7 left -> C = 7.
     * A: 3000 / 3 = 1000 ns.  At 1000: B has 3000 left, alone on L2 at 6:
     * 500 ns -> 1500.  C moved 7000, 7000 left, L1 free at 10: 700 ns ->
     * 1700. */
    uint32_t l1 = link("l1", 10 * GB), l2 = link("l2", 6 * GB);
    struct tflow a = {0}, b = {0}, c = {0};
    start(&a, 0, 3000, 2, l1, l2);
    start(&b, 0, 6000, 1, l2);
    start(&c, 1, 14000, 1, l1);
    dp_net_settle(&S.net, 0);
    ck_assert_rate(a.f, 3 * GB);
    ck_assert_rate(b.f, 3 * GB);
    ck_assert_rate(c.f, 7 * GB);
    run();
    ck_assert_uint_eq(a.done_at, 1000);
    ck_assert_uint_eq(b.done_at, 1500);
    ck_assert_uint_eq(c.done_at, 1700);
    /* L1 carried A + C = 17000, L2 carried A + B = 9000. */
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, l1, S.now), 17000, 1e-9);
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, l2, S.now), 9000, 1e-9);
}
END_TEST

struct timer {
    struct dp_ev ev;
    void (*fn)(struct timer *t);
    struct tflow *tf;
    uint32_t link;
    double value;
};

static void timer_fire(struct dp_ev *ev, void *ctx)
{
    (void)ev;
    struct timer *t = ctx;
    t->fn(t);
}

static void at(struct timer *t, uint64_t when, void (*fn)(struct timer *))
{
    dp_ev_init(&t->ev, timer_fire, t);
    t->fn = fn;
    QUICK(dp_evq_schedule(&S.q, &t->ev, when) == 0);
}

static void start_zero(struct timer *t) { start(t->tf, 0, 0, 1, t->link); }

START_TEST(zero_byte_flow)
{
    uint32_t l = link("l", 1 * GB);
    struct tflow x = {0}, z = {0}, z2 = {0};
    /* Z (0 B) ends at its start instant and takes no share: X (1000 B)
     * keeps the full 1 GB/s and ends at 1000, not 2000. */
    start(&x, 0, 1000, 1, l);
    start(&z, 0, 0, 1, l);
    struct timer t = {.tf = &z2, .link = l};
    at(&t, 500, start_zero);             /* another 0 B flow at 500 ns */
    run();
    ck_assert_int_eq(z.n_done, 1);
    ck_assert_uint_eq(z.done_at, 0);
    ck_assert_uint_eq(z2.done_at, 500);
    ck_assert_uint_eq(x.done_at, 1000);
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, l, S.now), 1000, 1e-9);
}
END_TEST

static void probe(struct timer *t) { t->value = dp_link_bytes(&S.net, t->link, S.now); }

START_TEST(link_bytes_match)
{
    uint32_t l = link("l", 1 * GB);
    struct tflow a = {0}, b = {0};
    /* A 1000 B, B 3000 B on 1 GB/s (A ends 2000, B 4000, as above).
     * bytes(1000) = 2 * 0.5 * 1000 = 1000; bytes(2000) = 2000;
     * bytes(3000) = A's 1000 + B's 1000 + 1000 alone = 3000;
     * bytes(5000) = 4000 (idle after 4000). */
    start(&a, 0, 1000, 1, l);
    start(&b, 0, 3000, 1, l);
    struct timer p[4];
    uint64_t when[4] = {1000, 2000, 3000, 5000};
    double want[4] = {1000, 2000, 3000, 4000};
    for (int i = 0; i < 4; i++) {
        p[i].link = l;
        at(&p[i], when[i], probe);
    }
    run();
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(p[i].value, want[i], 1e-9);
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, l, 1000000), 4000, 1e-9);
}
END_TEST

START_TEST(many_starts_one_recompute)
{
    enum { N = 100 };
    uint32_t l = link("l", 1 * GB);
    static struct tflow f[N];
    /* 100 flows of 1000 B at 10 MB/s each: all end at 100000 ns. */
    for (int i = 0; i < N; i++)
        start(&f[i], 0, 1000, 1, l);
    dp_net_settle(&S.net, 0);
    ck_assert_uint_eq(S.net.recomputes, 1);
    ck_assert_rate(f[0].f, GB / N);
    run();
    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(f[i].done_at, 100000);
    /* The 100 completions at one instant share one more recompute. */
    ck_assert_uint_eq(S.net.recomputes, 2);
}
END_TEST

static struct tflow many[100];
static void start_one(struct timer *t) { start(t->tf, 0, 1000, 1, t->link); }

START_TEST(many_start_events_one_instant)
{
    enum { N = 100 };
    uint32_t l = link("l", 1 * GB);
    static struct timer t[N];
    /* 100 separate events at t = 50, each starting a flow: the deferred
     * settle recomputes once at 50 and once at the common end,
     * 50 + 100 * 1000 ns. */
    for (int i = 0; i < N; i++) {
        t[i].tf = &many[i];
        t[i].link = l;
        at(&t[i], 50, start_one);
    }
    run();
    ck_assert_uint_eq(S.net.recomputes, 2);
    ck_assert_uint_eq(S.settles, 2);
    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(many[i].done_at, 100050);
}
END_TEST

START_TEST(disjoint_links_separate_components)
{
    uint32_t l1 = link("l1", 1 * GB), l2 = link("l2", 2 * GB);
    struct tflow a = {0}, b = {0};
    start(&a, 0, 1000, 1, l1);
    start(&b, 0, 1000, 1, l2);
    dp_net_settle(&S.net, 0);
    /* Two components, one settle: recomputes counts components. */
    ck_assert_uint_eq(S.net.recomputes, 2);
    run();
    ck_assert_uint_eq(a.done_at, 1000);
    ck_assert_uint_eq(b.done_at, 500);
}
END_TEST

static uint32_t g_link;
static struct tflow g_c;

static void restart_self(struct tflow *t)
{
    t->then = NULL;                      /* only once */
    start(t, 0, 1000, 1, g_link);        /* reuse the struct inside done() */
}

static void start_other(struct tflow *t)
{
    (void)t;
    start(&g_c, 0, 500, 1, g_link);
}

START_TEST(start_inside_done)
{
    g_link = link("l", 1 * GB);
    struct tflow a = {.then = restart_self}, b = {.then = start_other};
    /* A 1000 B, B 3000 B at 0.5 GB/s: A ends at 2000 and restarts itself
     * with 1000 B. B has 2000 B left; both at 0.5: A's second run ends at
     * 2000 + 2000 = 4000; B has 1000 left, alone at 1 GB/s: 5000. B's
     * done starts C (500 B) alone: 5500. Total 5500 B in 5500 ns. */
    start(&a, 0, 1000, 1, g_link);
    start(&b, 0, 3000, 1, g_link);
    run();
    ck_assert_int_eq(a.n_done, 2);
    ck_assert_uint_eq(a.done_at, 4000);
    ck_assert_uint_eq(b.done_at, 5000);
    ck_assert_uint_eq(g_c.done_at, 5500);
    ck_assert_double_eq_tol(dp_link_bytes(&S.net, g_link, S.now), 5500, 1e-9);
}
END_TEST

START_TEST(bad_arguments)
{
    ck_assert_int_eq(dp_net_add_link(&S.net, "z", 0), DP_EINVAL);
    ck_assert_int_eq(dp_net_add_link(&S.net, "n", -1), DP_EINVAL);
    ck_assert_int_eq(dp_net_add_link(&S.net, "nan", NAN), DP_EINVAL);
    ck_assert_int_eq(dp_net_add_link(&S.net, "inf", INFINITY), DP_EINVAL);
    ck_assert_uint_eq(S.net.n_links, 0);
    uint32_t l = link("a-very-long-name-that-does-not-fit-in-the-field-at-all", GB);
    ck_assert_uint_eq(strlen(S.net.links[l].name), 47);
    uint32_t m = link(NULL, GB);
    struct dp_flow f;
    uint32_t p[5] = {l, m, 0, 0, 0};
    uint32_t bad[1] = {7};
    uint32_t dup[2] = {l, l};
    ck_assert_int_eq(dp_flow_start(&S.net, &f, p, 0, 0, 1, 0, NULL, NULL), DP_EINVAL);
    ck_assert_int_eq(dp_flow_start(&S.net, &f, p, 5, 0, 1, 0, NULL, NULL), DP_EINVAL);
    ck_assert_int_eq(dp_flow_start(&S.net, &f, bad, 1, 0, 1, 0, NULL, NULL), DP_EINVAL);
    ck_assert_int_eq(dp_flow_start(&S.net, &f, dup, 2, 0, 1, 0, NULL, NULL), DP_EINVAL);
    ck_assert_int_eq(dp_flow_start(&S.net, &f, p, 2, DP_LANES, 1, 0, NULL, NULL), DP_EINVAL);
    ck_assert_int_eq(dp_flow_start(&S.net, &f, p, 2, 0, -1, 0, NULL, NULL), DP_EINVAL);
    ck_assert_int_eq(dp_flow_start(&S.net, &f, p, 2, 0, NAN, 0, NULL, NULL), DP_EINVAL);
    ck_assert_int_eq(dp_net_dirty(&S.net), 0);
    ck_assert_uint_eq(S.net.n_flows_active, 0);
    /* done may be NULL. */
    ck_assert_int_eq(dp_flow_start(&S.net, &f, p, 2, 1, 10, 0, NULL, NULL), 0);
    run();
    ck_assert(!f.active);
}
END_TEST

START_TEST(epoch_wraps)
{
    /* The classic case again with the component epoch about to wrap. */
    S.net.epoch = UINT32_MAX - 1;
    uint32_t l1 = link("l1", 10 * GB), l2 = link("l2", 4 * GB);
    struct tflow a = {0}, b = {0}, c = {0};
    start(&a, 0, 4000, 2, l1, l2);
    start(&b, 0, 1e6, 1, l1);
    dp_net_settle(&S.net, 0);            /* epoch UINT32_MAX */
    start(&c, 0, 1e6, 1, l2);
    dp_net_settle(&S.net, 0);            /* wraps to 1 */
    ck_assert_uint_eq(S.net.epoch, 1);
    ck_assert_rate(a.f, 2 * GB);
    ck_assert_rate(b.f, 8 * GB);
    ck_assert_rate(c.f, 2 * GB);
    run();
    ck_assert_uint_eq(a.done_at, 2000);  /* 4000 B at 2 B/ns */
}
END_TEST

/* ---- random runs against a naive reference ------------------------------ */

enum { RL = 24, RF = 100, R_FLOWS = 6000 };

struct slot {
    struct tflow tf;
    struct timer t;
    uint32_t path[DP_PATH_MAX];
    unsigned n_path;
    double min_bw;
};

static struct slot slots[RF];
static double expect_bytes[RL];
static uint32_t rlinks[RL];
static long n_checked, n_done_total, n_starved_seen;
static unsigned rseed;

static double urand(void) { return rand_r(&rseed) / (RAND_MAX + 1.0); }

/* Progressive filling done the slow obvious way: O(F * L) per step. */
static void reference_rates(double *ref)
{
    double cap[RL];
    int frozen[RF] = {0};
    for (int i = 0; i < RL; i++)
        cap[i] = S.net.links[rlinks[i]].bw;
    for (unsigned lane = 0; lane < DP_LANES; lane++) {
        for (;;) {
            int cnt[RL] = {0};
            for (int i = 0; i < RF; i++) {
                struct dp_flow *f = &slots[i].tf.f;
                if (!f->active || f->bytes_total == 0 || f->lane != lane || frozen[i])
                    continue;
                for (unsigned k = 0; k < f->n_path; k++)
                    cnt[f->path[k]]++;
            }
            int best = -1;
            double bs = 0;
            for (int j = 0; j < RL; j++) {
                if (!cnt[j])
                    continue;
                double c = cap[j] > S.net.links[j].bw * 1e-9 ? cap[j] : 0;
                double s = c / cnt[j];
                if (best < 0 || s < bs) {
                    best = j;
                    bs = s;
                }
            }
            if (best < 0)
                break;
            for (int i = 0; i < RF; i++) {
                struct dp_flow *f = &slots[i].tf.f;
                if (!f->active || f->bytes_total == 0 || f->lane != lane || frozen[i])
                    continue;
                int on = 0;
                for (unsigned k = 0; k < f->n_path; k++)
                    on |= f->path[k] == (uint32_t)best;
                if (!on)
                    continue;
                frozen[i] = 1;
                ref[i] = bs;
                for (unsigned k = 0; k < f->n_path; k++)
                    cap[f->path[k]] -= bs;
            }
        }
    }
}

static void check_against_reference(void)
{
    double ref[RF];
    reference_rates(ref);
    for (int i = 0; i < RF; i++) {
        struct dp_flow *f = &slots[i].tf.f;
        if (!f->active || f->bytes_total == 0)
            continue;
        if (fabs(f->rate - ref[i]) > 1e-9 * slots[i].min_bw)
            ck_abort_msg("flow %d rate %.17g, reference %.17g", i, f->rate, ref[i]);
        QUICK(f->rate > 0 || (f->lane > 0 && !dp_ev_pending(&f->done_ev)));
        QUICK(f->rate == 0 || dp_ev_pending(&f->done_ev));
        n_starved_seen += f->rate == 0;
        n_checked++;
    }
    for (int j = 0; j < RL; j++) {
        double sum = 0;
        for (int i = 0; i < RF; i++) {
            struct dp_flow *f = &slots[i].tf.f;
            if (!f->active)
                continue;
            for (unsigned k = 0; k < f->n_path; k++)
                if (f->path[k] == (uint32_t)j)
                    sum += f->rate;
        }
        QUICK(sum <= S.net.links[j].bw * (1 + 1e-9));
        QUICK(fabs(S.net.links[j].rate - sum) <= S.net.links[j].bw * 1e-9);
    }
}

static long r_flows_left;
static void slot_start(struct timer *t);

static void slot_done(struct tflow *tf)
{
    struct slot *s = (struct slot *)tf;
    struct dp_flow *f = &tf->f;
    /* Never earlier than all of it at the narrowest link's bw. */
    uint64_t floor_ns = f->start_ns + (uint64_t)ceil(f->bytes_total / s->min_bw * 1e9);
    QUICK(S.now >= floor_ns);
    for (unsigned k = 0; k < s->n_path; k++)
        expect_bytes[s->path[k]] += f->bytes_total;
    n_done_total++;
    if (r_flows_left > 0) {
        r_flows_left--;
        at(&s->t, S.now + (uint64_t)(urand() * 300), slot_start);
    }
}

static void slot_start(struct timer *t)
{
    struct slot *s = (struct slot *)t->tf;
    s->n_path = 1 + (unsigned)(urand() * DP_PATH_MAX);
    /* distinct links, clustered so components are large but not total */
    uint32_t base = (uint32_t)(urand() * RL);
    for (unsigned k = 0; k < s->n_path; k++) {
        uint32_t id;
        int dup;
        do {
            id = (base + (uint32_t)(urand() * 8)) % RL;
            dup = 0;
            for (unsigned j = 0; j < k; j++)
                dup |= s->path[j] == id;
        } while (dup);
        s->path[k] = id;
    }
    s->min_bw = INFINITY;
    for (unsigned k = 0; k < s->n_path; k++)
        s->min_bw = fmin(s->min_bw, S.net.links[s->path[k]].bw);
    double bytes = urand() < 0.03 ? 0 : floor(urand() * 2e6) + urand();
    unsigned lane = urand() < 0.3 ? 0 : 1;
    QUICK(dp_flow_start(&S.net, &s->tf.f, s->path, s->n_path, lane,
                        bytes, S.now, on_done, &s->tf) == 0);
}

START_TEST(random_against_reference)
{
    rseed = 1000u + (unsigned)_i;
    S.eager = _i & 1;
    memset(slots, 0, sizeof slots);
    memset(expect_bytes, 0, sizeof expect_bytes);
    n_checked = n_done_total = n_starved_seen = 0;
    for (int j = 0; j < RL; j++)
        rlinks[j] = link("r", (1 + floor(urand() * 100)) * GB / 8);
    r_flows_left = R_FLOWS - RF;
    for (int i = 0; i < RF; i++) {
        slots[i].tf.then = slot_done;
        slots[i].t.tf = &slots[i].tf;
        at(&slots[i].t, (uint64_t)(urand() * 1000), slot_start);
    }
    S.after_settle = check_against_reference;
    run();
    ck_assert_int_eq(n_done_total, R_FLOWS);
    ck_assert_uint_eq(S.net.n_flows_active, 0);
    ck_assert_int_gt(n_checked, 10 * R_FLOWS);
    ck_assert_int_gt(n_starved_seen, 0);     /* the priority path was hit */
    /* Every link carried exactly what its finished flows moved. */
    for (int j = 0; j < RL; j++)
        ck_assert_double_eq_tol(dp_link_bytes(&S.net, rlinks[j], S.now),
                                expect_bytes[j], 1e-9 * expect_bytes[j] + 1e-6);
}
END_TEST

static Suite *links_suite(void)
{
    Suite *s = suite_create("links");
    TCase *tc = tcase_create("hand");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_flow_alone);
    tcase_add_test(tc, two_flows_share_equally);
    tcase_add_test(tc, classic_maxmin_three_links);
    tcase_add_test(tc, end_frees_bandwidth);
    tcase_add_test(tc, end_frees_bandwidth_rounding);
    tcase_add_test(tc, overshoot_not_counted);
    tcase_add_test(tc, tiny_flow_not_before_floor);
    tcase_add_test(tc, strict_priority);
    tcase_add_test(tc, priority_leftover);
    tcase_add_test(tc, two_lanes_two_links);
    tcase_add_test(tc, zero_byte_flow);
    tcase_add_test(tc, link_bytes_match);
    tcase_add_test(tc, many_starts_one_recompute);
    tcase_add_test(tc, many_start_events_one_instant);
    tcase_add_test(tc, disjoint_links_separate_components);
    tcase_add_test(tc, start_inside_done);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, epoch_wraps);
    suite_add_tcase(s, tc);

    TCase *tr = tcase_create("random");
    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_set_timeout(tr, 120);
    /* even: deferred settle, odd: settle before every pop */
    tcase_add_loop_test(tr, random_against_reference, 0, 4);
    suite_add_tcase(s, tr);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(links_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
