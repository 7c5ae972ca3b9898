/* The event queue: (t, seq) order, ties in scheduling order, cancel and
 * reschedule, and a large random run against a sorted reference. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/errors.h"
#include "base/evq.h"

static void nop(struct dp_ev *ev, void *ctx) { (void)ev; (void)ctx; }

/* Check logs every passing assertion; in the big loops call it on failure
 * only. */
#define QUICK(cond) do { if (!(cond)) ck_assert_msg(0, "%s", #cond); } while (0)

static struct dp_evq q;

static void setup(void) { ck_assert_int_eq(dp_evq_init(&q), 0); }
static void teardown(void) { dp_evq_free(&q); }

/* Pop everything; return how many, and check each id is as expected. */
static int pop_ids(const int *want, int n)
{
    int k = 0;
    struct dp_ev *ev;
    while ((ev = dp_evq_pop(&q))) {
        ck_assert_int_lt(k, n);
        ck_assert_int_eq((int)(intptr_t)ev->ctx, want[k]);
        ck_assert(!dp_ev_pending(ev));
        k++;
    }
    return k;
}

START_TEST(order_by_time)
{
    struct dp_ev ev[5];
    uint64_t t[5] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; i++) {
        dp_ev_init(&ev[i], nop, (void *)(intptr_t)i);
        ck_assert_int_eq(dp_evq_schedule(&q, &ev[i], t[i]), 0);
        ck_assert(dp_ev_pending(&ev[i]));
    }
    ck_assert_ptr_eq(dp_evq_peek(&q), &ev[1]);
    int want[5] = {1, 3, 4, 2, 0};
    ck_assert_int_eq(pop_ids(want, 5), 5);
    ck_assert_ptr_null(dp_evq_peek(&q));
    ck_assert_ptr_null(dp_evq_pop(&q));
}
END_TEST

START_TEST(ties_in_scheduling_order)
{
    struct dp_ev ev[6];
    for (int i = 0; i < 6; i++) {
        dp_ev_init(&ev[i], nop, (void *)(intptr_t)i);
        dp_evq_schedule(&q, &ev[i], i == 5 ? 1 : 7);
    }
    int want[6] = {5, 0, 1, 2, 3, 4};
    ck_assert_int_eq(pop_ids(want, 6), 6);
}
END_TEST

/* Moving an event, even to the time it already has, gives it a fresh seq:
 * it goes after everything already scheduled at that time. */
START_TEST(moved_event_goes_last_among_ties)
{
    struct dp_ev ev[4];
    for (int i = 0; i < 4; i++) {
        dp_ev_init(&ev[i], nop, (void *)(intptr_t)i);
        dp_evq_schedule(&q, &ev[i], 100);
    }
    dp_evq_schedule(&q, &ev[0], 100);          /* same time: now last */
    dp_evq_schedule(&q, &ev[3], 200);
    dp_evq_schedule(&q, &ev[3], 100);          /* back: after 0 */
    int want[4] = {1, 2, 0, 3};
    ck_assert_int_eq(pop_ids(want, 4), 4);
}
END_TEST

START_TEST(cancel)
{
    struct dp_ev ev[8];
    for (int i = 0; i < 8; i++) {
        dp_ev_init(&ev[i], nop, (void *)(intptr_t)i);
        dp_evq_schedule(&q, &ev[i], (uint64_t)(80 - 10 * i));
    }
    dp_evq_cancel(&q, &ev[3]);
    dp_evq_cancel(&q, &ev[7]);                 /* the root */
    dp_evq_cancel(&q, &ev[0]);                 /* a leaf */
    ck_assert(!dp_ev_pending(&ev[3]));
    dp_evq_cancel(&q, &ev[3]);                 /* idle: no effect */
    ck_assert_uint_eq(q.n, 5);
    int want[5] = {6, 5, 4, 2, 1};
    ck_assert_int_eq(pop_ids(want, 5), 5);
    /* A cancelled event can be scheduled again. */
    dp_evq_schedule(&q, &ev[3], 5);
    ck_assert_ptr_eq(dp_evq_pop(&q), &ev[3]);
}
END_TEST

START_TEST(reschedule_earlier_and_later)
{
    struct dp_ev ev[5];
    for (int i = 0; i < 5; i++) {
        dp_ev_init(&ev[i], nop, (void *)(intptr_t)i);
        dp_evq_schedule(&q, &ev[i], (uint64_t)(10 * (i + 1)));
    }
    dp_evq_schedule(&q, &ev[4], 5);            /* 50 -> 5: first */
    dp_evq_schedule(&q, &ev[0], 45);           /* 10 -> 45: after 3 (40) */
    dp_evq_schedule(&q, &ev[2], 100);          /* 30 -> 100: last */
    ck_assert_uint_eq(q.n, 5);
    int want[5] = {4, 1, 3, 0, 2};
    ck_assert_int_eq(pop_ids(want, 5), 5);
}
END_TEST

START_TEST(popped_counter)
{
    struct dp_ev ev[3];
    for (int i = 0; i < 3; i++) {
        dp_ev_init(&ev[i], nop, NULL);
        dp_evq_schedule(&q, &ev[i], 1);
    }
    dp_evq_cancel(&q, &ev[1]);                 /* cancel is not a delivery */
    ck_assert_uint_eq(q.popped, 0);
    dp_evq_pop(&q);
    dp_evq_pop(&q);
    dp_evq_pop(&q);                            /* empty: not counted */
    ck_assert_uint_eq(q.popped, 2);
}
END_TEST

/* Reference key of an event: (t, seq) packed into comparable order. */
struct rec { uint64_t t, seq; struct dp_ev *ev; };

static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* 100k events with many equal times, a third of them moved and some
 * cancelled: pops come out exactly in the sorted (t, seq) reference order. */
START_TEST(random_100k_sorted)
{
    enum { N = 100000 };
    struct dp_ev *ev = calloc(N, sizeof *ev);
    struct rec *ref = calloc(N, sizeof *ref);
    ck_assert_ptr_nonnull(ev);
    ck_assert_ptr_nonnull(ref);
    srand(12345);
    for (int i = 0; i < N; i++) {
        dp_ev_init(&ev[i], nop, NULL);
        QUICK(dp_evq_schedule(&q, &ev[i], (uint64_t)(rand() % 5000)) == 0);
    }
    for (int k = 0; k < N / 3; k++) {
        struct dp_ev *e = &ev[rand() % N];
        if (rand() % 4 == 0)
            dp_evq_cancel(&q, e);
        else
            dp_evq_schedule(&q, e, (uint64_t)(rand() % 5000));
    }
    int n = 0;
    for (int i = 0; i < N; i++)
        if (dp_ev_pending(&ev[i]))
            ref[n++] = (struct rec){ev[i].t, ev[i].seq, &ev[i]};
    ck_assert_uint_eq(q.n, (unsigned)n);
    qsort(ref, (size_t)n, sizeof *ref, rec_cmp);
    for (int i = 0; i < n; i++) {
        struct dp_ev *e = dp_evq_pop(&q);
        QUICK(e == ref[i].ev);
    }
    ck_assert_ptr_null(dp_evq_pop(&q));
    ck_assert_uint_eq(q.popped, (uint64_t)n);
    free(ev);
    free(ref);
}
END_TEST

/* Interleaved pops and pushes (the simulator's pattern): times never go
 * backwards and every event comes out once. */
START_TEST(random_interleaved)
{
    enum { N = 20000 };
    struct dp_ev *ev = calloc(N, sizeof *ev);
    ck_assert_ptr_nonnull(ev);
    srand(7);
    for (int i = 0; i < N; i++)
        dp_ev_init(&ev[i], nop, NULL);
    uint64_t now = 0, last_seq = 0;
    int next = 0, out = 0;
    while (next < N || q.n) {
        for (int k = 0; k < 3 && next < N; k++)
            dp_evq_schedule(&q, &ev[next++], now + (uint64_t)(rand() % 100));
        if (q.n > 10 && rand() % 3 == 0) {
            struct dp_ev *e = q.heap[(uint32_t)rand() % q.n].ev;
            dp_evq_schedule(&q, e, now + (uint64_t)(rand() % 100));
        }
        struct dp_ev *e = dp_evq_pop(&q);
        if (!e)
            continue;
        QUICK(e->t >= now);
        if (e->t == now && out)
            QUICK(e->seq > last_seq);
        now = e->t;
        last_seq = e->seq;
        out++;
        /* Heap slots and order stay consistent. */
        if (out % 64 == 0)
            for (uint32_t i = 0; i < q.n; i++) {
                QUICK(q.heap[i].ev->slot == i);
                /* the inline keys mirror the event's own */
                QUICK(q.heap[i].t == q.heap[i].ev->t && q.heap[i].seq == q.heap[i].ev->seq);
                if (i > 0) {
                    const struct dp_evq_ent *p = &q.heap[(i - 1) / 4], *c = &q.heap[i];
                    QUICK(p->t < c->t || (p->t == c->t && p->seq < c->seq));
                }
            }
    }
    ck_assert_int_eq(out, N);
    free(ev);
}
END_TEST

START_TEST(reserve_and_growth)
{
    ck_assert_int_eq(dp_evq_reserve(&q, 1000), 0);
    ck_assert_uint_ge(q.cap, 1000);
    uint32_t cap = q.cap;
    struct dp_ev ev[1000];
    for (int i = 0; i < 1000; i++) {
        dp_ev_init(&ev[i], nop, NULL);
        dp_evq_schedule(&q, &ev[i], (uint64_t)(1000 - i));
    }
    ck_assert_uint_eq(q.cap, cap);             /* no growth after reserve */
    for (int i = 0; i < 1000; i++)
        ck_assert_ptr_eq(dp_evq_pop(&q), &ev[999 - i]);
}
END_TEST

static Suite *evq_suite(void)
{
    Suite *s = suite_create("evq");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, order_by_time);
    tcase_add_test(tc, ties_in_scheduling_order);
    tcase_add_test(tc, moved_event_goes_last_among_ties);
    tcase_add_test(tc, cancel);
    tcase_add_test(tc, reschedule_earlier_and_later);
    tcase_add_test(tc, popped_counter);
    tcase_add_test(tc, random_100k_sorted);
    tcase_add_test(tc, random_interleaved);
    tcase_add_test(tc, reserve_and_growth);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(evq_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
