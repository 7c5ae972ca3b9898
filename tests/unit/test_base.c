/* base/: the u64 map, dp_grow, the splitmix64 hash and the fifo (the event
 * queue has test_evq.c), against hand-worked values. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/errors.h"
#include "base/fifo.h"
#include "base/grow.h"
#include "base/hash.h"
#include "base/u64map.h"

/* splitmix64 from state 0: the reference sequence (Vigna's splitmix64.c,
 * and every port of it) starts e220a8397b1dcdaf 6e789e6aa1b965f4
 * 06c45d188009454f. */
START_TEST(splitmix64_reference)
{
    uint64_t st = 0;
    ck_assert_uint_eq(dp_splitmix64(&st), 0xe220a8397b1dcdafULL);
    ck_assert_uint_eq(dp_splitmix64(&st), 0x6e789e6aa1b965f4ULL);
    ck_assert_uint_eq(dp_splitmix64(&st), 0x06c45d188009454fULL);
    ck_assert_uint_eq(st, 3 * 0x9e3779b97f4a7c15ULL);
    ck_assert_uint_eq(dp_mix64(0), 0);   /* the finaliser fixes 0 */
}
END_TEST

/* A set: keys 0 .. 9999 and the empty marker UINT64_MAX, through growth
 * from the smallest table; absent keys stay absent. */
START_TEST(map_as_set)
{
    struct dp_u64map m;
    ck_assert_int_eq(dp_u64map_init(&m, 0, 0), 0);
    ck_assert_ptr_null(m.vals);
    ck_assert_int_eq(dp_u64map_get(&m, 5, NULL), 0);
    for (uint64_t k = 0; k < 10000; k++)
        ck_assert_int_eq(dp_u64map_put(&m, k, 0), 0);
    ck_assert_int_eq(dp_u64map_put(&m, UINT64_MAX, 0), 0);
    ck_assert_int_eq(dp_u64map_put(&m, 17, 0), 0);   /* again: no change */
    ck_assert_uint_eq(m.n, 10000);                   /* UINT64_MAX is kept aside */
    ck_assert_uint_ge(m.cap * 3, m.n * 4);           /* load at most 3/4 */
    for (uint64_t k = 0; k < 10000; k++)
        ck_assert_int_eq(dp_u64map_get(&m, k, NULL), 1);
    ck_assert_int_eq(dp_u64map_get(&m, UINT64_MAX, NULL), 1);
    ck_assert_int_eq(dp_u64map_get(&m, 10000, NULL), 0);
    ck_assert_int_eq(dp_u64map_get(&m, UINT64_MAX - 1, NULL), 0);
    dp_u64map_free(&m);
    ck_assert_int_eq(dp_u64map_get(&m, 1, NULL), 0);
}
END_TEST

/* A map: the first value put stays (put never overwrites); a zeroed
 * struct is a map too, values kept through its growth. */
START_TEST(map_with_values)
{
    struct dp_u64map m = { 0 };
    uint64_t v = 0;
    for (uint64_t k = 0; k < 500; k++)
        ck_assert_int_eq(dp_u64map_put(&m, k, 3 * k), 0);
    ck_assert_int_eq(dp_u64map_get(&m, 321, &v), 1);
    ck_assert_uint_eq(v, 963);
    dp_u64map_free(&m);
    ck_assert_int_eq(dp_u64map_init(&m, 10, 1), 0);
    ck_assert_uint_eq(m.cap, 64);
    for (uint64_t k = 1; k <= 1000; k++)
        ck_assert_int_eq(dp_u64map_put(&m, k * 0x100000001ULL, k + 7), 0);
    ck_assert_int_eq(dp_u64map_put(&m, 0x100000001ULL, 99), 0);
    ck_assert_int_eq(dp_u64map_get(&m, 0x100000001ULL, &v), 1);
    ck_assert_uint_eq(v, 8);
    ck_assert_int_eq(dp_u64map_get(&m, 1000 * 0x100000001ULL, &v), 1);
    ck_assert_uint_eq(v, 1007);
    ck_assert_int_eq(dp_u64map_put(&m, UINT64_MAX, 42), 0);
    ck_assert_int_eq(dp_u64map_get(&m, UINT64_MAX, &v), 1);
    ck_assert_uint_eq(v, 42);
    dp_u64map_free(&m);
}
END_TEST

/* dp_grow: first capacity, doubling, no move when there is room,
 * overflow refused with the array left as it was. */
START_TEST(grow_doubles)
{
    size_t cap = 0;
    int *a = dp_grow(NULL, &cap, 1, sizeof *a, 4);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(cap, 4);
    ck_assert_ptr_eq(dp_grow(a, &cap, 4, sizeof *a, 4), a);
    ck_assert_uint_eq(cap, 4);
    a[3] = 33;
    a = dp_grow(a, &cap, 5, sizeof *a, 4);
    ck_assert_uint_eq(cap, 8);
    ck_assert_int_eq(a[3], 33);
    a = dp_grow(a, &cap, 100, sizeof *a, 4);
    ck_assert_uint_eq(cap, 128);
    ck_assert_ptr_null(dp_grow(a, &cap, SIZE_MAX / 2, sizeof *a, 4));
    ck_assert_uint_eq(cap, 128);
    ck_assert_int_eq(a[3], 33);
    free(a);
}
END_TEST

/* The fifo keeps order across its ring's wrap and growth. */
START_TEST(fifo_order)
{
    struct dp_fifo q = { 0 };
    uintptr_t next_in = 1, next_out = 1;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 7; i++)
            ck_assert_int_eq(dp_fifo_push(&q, (void *)next_in++), 0);
        for (int i = 0; i < 5; i++)
            ck_assert_ptr_eq(dp_fifo_pop(&q), (void *)next_out++);
    }
    ck_assert_uint_eq(q.n, 100);
    ck_assert_ptr_eq(dp_fifo_peek(&q), (void *)next_out);
    ck_assert_ptr_eq(dp_fifo_at(&q, 99), (void *)(next_in - 1));
    while (q.n)
        ck_assert_ptr_eq(dp_fifo_pop(&q), (void *)next_out++);
    ck_assert_ptr_null(dp_fifo_pop(&q));
    dp_fifo_free(&q);
}
END_TEST

START_TEST(error_names)
{
    struct dp_err e;
    ck_assert_int_eq(dp_err_set(&e, DP_ENOMEM, "x=%d", 3), DP_ENOMEM);
    ck_assert_str_eq(e.msg, "x=3");
    ck_assert_str_eq(dp_strerror(DP_ENOMEM), "out of memory");
    ck_assert_int_ne(DP_ENOMEM, -1);   /* -1 is DP_EINVAL: never "out of memory" */
    ck_assert_int_eq(dp_err_set(NULL, DP_EIO, "ignored"), DP_EIO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("base");
    TCase *tc = tcase_create("base");
    tcase_add_test(tc, splitmix64_reference);
    tcase_add_test(tc, map_as_set);
    tcase_add_test(tc, map_with_values);
    tcase_add_test(tc, grow_doubles);
    tcase_add_test(tc, fifo_order);
    tcase_add_test(tc, error_names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
