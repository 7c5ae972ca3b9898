/* The hw shim's block store, KV content, SNIC token bucket and reader pool
 * (hw/store.h, hw/kvfill.h): pure C, no GPU needed.
 *
 * Expected times of the token bucket are worked out by hand in the comments
 * (bytes / rate), never by calling the code under test. */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw/kvfill.h"
#include "hw/store.h"

static char dir[256];

static void mk_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/dp-test-hw-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(kv_content_is_a_function_of_the_tag)
{
    uint64_t a[64], b[64];
    dp_kv_fill_host(a, sizeof a, 7, 3, 2);
    dp_kv_fill_host(b, sizeof b, 7, 3, 2);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert(dp_kv_check_host(a, sizeof a, 7, 3, 2));
    /* any other session, block or layer differs */
    ck_assert(!dp_kv_check_host(a, sizeof a, 8, 3, 2));
    ck_assert(!dp_kv_check_host(a, sizeof a, 7, 4, 2));
    ck_assert(!dp_kv_check_host(a, sizeof a, 7, 3, 1));
    /* one flipped bit anywhere is seen */
    a[63] ^= 1ULL << 40;
    ck_assert(!dp_kv_check_host(a, sizeof a, 7, 3, 2));
    /* a zeroed (never written) block is seen */
    memset(b, 0, sizeof b);
    ck_assert(!dp_kv_check_host(b, sizeof b, 7, 3, 2));
}
END_TEST

/* Write two sessions, read full blocks and single layers back, check them. */
static void roundtrip(int direct)
{
    struct dp_store *s;
    struct dp_err err;
    void *buf;
    mk_dir();
    /* 3 layers of 6000 bytes: slots round up to 8192 for O_DIRECT */
    ck_assert_int_eq(dp_store_open(&s, dir, 3, 6000, direct, &err), 0);
    ck_assert_uint_eq(dp_store_slot_bytes(s), 8192);
    ck_assert_int_eq(dp_store_write_session(s, 1, 5, &err), 0);
    ck_assert_int_eq(dp_store_write_session(s, 2, 2, &err), 0);
    ck_assert_uint_eq(dp_store_read_bytes(s, 4, 3), 4 * 3 * 8192);
    ck_assert_int_eq(posix_memalign(&buf, 4096, 4 * 3 * 8192), 0);
    /* blocks 1..4 of session 1, all layers */
    ck_assert_int_eq(dp_store_read(s, 1, 1, 5, 0, 3, buf, &err), 0);
    ck_assert_uint_eq(dp_store_check(s, buf, 1, 1, 5, 0, 3), 0);
    /* the same bytes claimed for session 2 are all wrong */
    ck_assert_uint_eq(dp_store_check(s, buf, 2, 1, 5, 0, 3), 12);
    /* layer 2 only of blocks 0..1 of session 2 */
    ck_assert_int_eq(dp_store_read(s, 2, 0, 2, 2, 3, buf, &err), 0);
    ck_assert_uint_eq(dp_store_check(s, buf, 2, 0, 2, 2, 3), 0);
    /* corrupt one byte of the second slice: exactly one wrong */
    ((uint8_t *)buf)[8192 + 100] ^= 1;
    ck_assert_uint_eq(dp_store_check(s, buf, 2, 0, 2, 2, 3), 1);
    free(buf);
    dp_store_close(s);
    rm_dir();
}

START_TEST(store_roundtrip_auto) { roundtrip(-1); }
END_TEST

START_TEST(store_roundtrip_page_cache) { roundtrip(0); }
END_TEST

START_TEST(store_errors)
{
    struct dp_store *s;
    struct dp_err err;
    void *buf;
    mk_dir();
    ck_assert_int_eq(dp_store_open(&s, dir, 2, 4096, -1, &err), 0);
    ck_assert_int_eq(dp_store_write_session(s, 9, 2, &err), 0);
    ck_assert_int_eq(posix_memalign(&buf, 4096, 8 * 4096), 0);
    /* a session never written */
    ck_assert_int_eq(dp_store_read(s, 10, 0, 1, 0, 2, buf, &err), DP_ENOENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "s10.kv"));
    /* a block past the end */
    ck_assert_int_eq(dp_store_read(s, 9, 1, 3, 0, 2, buf, &err), DP_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "not written"));
    /* a layer range past the model */
    ck_assert_int_eq(dp_store_read(s, 9, 0, 1, 0, 3, buf, &err), DP_EINVAL);
    free(buf);
    dp_store_close(s);
    /* a file where the directory should be */
    char file[300];
    snprintf(file, sizeof file, "%s/plain", dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(dp_store_open(&s, file, 2, 4096, -1, &err), DP_EIO);
    ck_assert_ptr_null(s);
    /* bad shapes */
    ck_assert_int_eq(dp_store_open(&s, dir, 0, 4096, -1, &err), DP_EINVAL);
    ck_assert_int_eq(dp_store_open(&s, dir, 2, 4095, -1, &err), DP_EINVAL);
    rm_dir();
}
END_TEST

START_TEST(tbucket_paces_at_rate)
{
    struct dp_tbucket tb;
    dp_tbucket_init(&tb, 1e9, 0);   /* 1 GB/s, no burst */
    /* 1e6 bytes at 1e9 B/s = 1 ms each, back to back from t = 0 */
    ck_assert_uint_eq(dp_tbucket_reserve(&tb, 0, 1000000), 1000000);
    ck_assert_uint_eq(dp_tbucket_reserve(&tb, 0, 1000000), 2000000);
    /* idle until 10 ms: the next starts then, ends at 11 ms */
    ck_assert_uint_eq(dp_tbucket_reserve(&tb, 10000000, 1000000), 11000000);
    dp_tbucket_destroy(&tb);
}
END_TEST

START_TEST(tbucket_burst_and_unlimited)
{
    struct dp_tbucket tb;
    dp_tbucket_init(&tb, 1e9, 2e6);   /* 2 MB of credit = 2 ms at 1 GB/s */
    /* after idleness, 2 MB go at once (complete "now"), the third MB at +1 ms */
    ck_assert_uint_eq(dp_tbucket_reserve(&tb, 100000000, 1000000), 100000000);
    ck_assert_uint_eq(dp_tbucket_reserve(&tb, 100000000, 1000000), 100000000);
    ck_assert_uint_eq(dp_tbucket_reserve(&tb, 100000000, 1000000), 101000000);
    dp_tbucket_destroy(&tb);
    dp_tbucket_init(&tb, 0, 0);       /* rate 0: unlimited */
    ck_assert_uint_eq(dp_tbucket_reserve(&tb, 5, 1ULL << 40), 5);
    dp_tbucket_destroy(&tb);
}
END_TEST

/* 16 reads of 2 blocks x 2 layers x 64 KiB = 256 KiB each, 4 MiB in all,
 * through a 200 MB/s bucket: at least 4194304 / 2e8 = 21 ms. */
START_TEST(pool_reads_shaped_and_verified)
{
    struct dp_store *s;
    struct dp_store_pool *p;
    struct dp_tbucket tb;
    struct dp_err err;
    struct dp_store_req req[16];
    void *bufs[16];
    mk_dir();
    ck_assert_int_eq(dp_store_open(&s, dir, 2, 65536, -1, &err), 0);
    for (uint64_t k = 0; k < 4; k++)
        ck_assert_int_eq(dp_store_write_session(s, k, 8, &err), 0);
    ck_assert_int_eq(dp_store_pool_create(&p, s, 4, &err), 0);
    dp_tbucket_init(&tb, 2e8, 0);
    uint64_t t0 = dp_store_now_ns();
    for (int i = 0; i < 16; i++) {
        ck_assert_int_eq(posix_memalign(&bufs[i], 4096, 4 * 65536), 0);
        memset(&req[i], 0, sizeof req[i]);
        req[i].session = (uint64_t)(i % 4);
        req[i].block_lo = (uint32_t)(i / 4) * 2;
        req[i].block_hi = req[i].block_lo + 2;
        req[i].layer_hi = 2;
        req[i].dst = bufs[i];
        req[i].bucket = &tb;
        req[i].user = &req[i];
        dp_store_pool_submit(p, &req[i]);
    }
    int done = 0;
    while (done < 16) {
        struct dp_store_req *r = dp_store_pool_wait(p, 1000000000ULL);
        ck_assert_ptr_nonnull(r);
        for (; r; r = r->next, done++) {
            ck_assert_int_eq(r->status, 0);
            ck_assert_uint_eq(dp_store_check(s, r->dst, r->session, r->block_lo, r->block_hi,
                                             0, 2), 0);
        }
    }
    double ms = (dp_store_now_ns() - t0) / 1e6;
    ck_assert_msg(ms >= 20.9, "4 MiB at 200 MB/s took %.1f ms, under 21", ms);
    ck_assert_ptr_null(dp_store_pool_poll(p));
    dp_store_pool_destroy(p);
    dp_tbucket_destroy(&tb);
    for (int i = 0; i < 16; i++)
        free(bufs[i]);
    dp_store_close(s);
    rm_dir();
}
END_TEST

/* A failed read comes back with its error line, not silently. */
START_TEST(pool_reports_failures)
{
    struct dp_store *s;
    struct dp_store_pool *p;
    struct dp_err err;
    struct dp_store_req r;
    void *buf;
    mk_dir();
    ck_assert_int_eq(dp_store_open(&s, dir, 1, 4096, -1, &err), 0);
    ck_assert_int_eq(dp_store_pool_create(&p, s, 2, &err), 0);
    ck_assert_int_eq(posix_memalign(&buf, 4096, 4096), 0);
    memset(&r, 0, sizeof r);
    r.session = 77;
    r.block_hi = 1;
    r.layer_hi = 1;
    r.dst = buf;
    dp_store_pool_submit(p, &r);
    struct dp_store_req *got = dp_store_pool_wait(p, 2000000000ULL);
    ck_assert_ptr_eq(got, &r);
    ck_assert_int_eq(r.status, DP_ENOENT);
    ck_assert_ptr_nonnull(strstr(r.msg, "s77.kv"));
    dp_store_pool_destroy(p);
    free(buf);
    dp_store_close(s);
    rm_dir();
}
END_TEST

/* Blocks written back through the pool (as the shim's write-back does) read
 * back whole, and a later write of further blocks leaves the first intact. */
START_TEST(pool_writes_then_reads)
{
    struct dp_store *s;
    struct dp_store_pool *p;
    struct dp_err err;
    struct dp_store_req w[3];
    void *buf;
    mk_dir();
    ck_assert_int_eq(dp_store_open(&s, dir, 2, 4096, -1, &err), 0);
    ck_assert_int_eq(dp_store_pool_create(&p, s, 2, &err), 0);
    size_t bb = 2 * 4096;   /* one block, both layers */
    ck_assert_int_eq(posix_memalign(&buf, 4096, 3 * bb), 0);
    for (uint32_t b = 0; b < 3; b++) {
        for (uint32_t l = 0; l < 2; l++)
            dp_kv_fill_host((uint8_t *)buf + b * bb + l * 4096, 4096, 5, b, l);
        memset(&w[b], 0, sizeof w[b]);
        w[b].write = 1;
        w[b].session = 5;
        w[b].block_lo = b;
        w[b].block_hi = b + 1;
        w[b].dst = (uint8_t *)buf + b * bb;
    }
    /* blocks 0 and 2 first (a hole at 1), then block 1 */
    dp_store_pool_submit(p, &w[0]);
    dp_store_pool_submit(p, &w[2]);
    for (int got = 0; got < 2;)
        for (struct dp_store_req *r = dp_store_pool_wait(p, 1000000000ULL); r; r = r->next, got++)
            ck_assert_int_eq(r->status, 0);
    dp_store_pool_submit(p, &w[1]);
    ck_assert_ptr_eq(dp_store_pool_wait(p, 1000000000ULL), &w[1]);
    ck_assert_int_eq(w[1].status, 0);
    memset(buf, 0, 3 * bb);
    ck_assert_int_eq(dp_store_read(s, 5, 0, 3, 0, 2, buf, &err), 0);
    ck_assert_uint_eq(dp_store_check(s, buf, 5, 0, 3, 0, 2), 0);
    dp_store_pool_destroy(p);
    free(buf);
    dp_store_close(s);
    rm_dir();
}
END_TEST

static Suite *hw_store_suite(void)
{
    Suite *s = suite_create("hw_store");
    TCase *t = tcase_create("store");
    tcase_add_test(t, kv_content_is_a_function_of_the_tag);
    tcase_add_test(t, store_roundtrip_auto);
    tcase_add_test(t, store_roundtrip_page_cache);
    tcase_add_test(t, store_errors);
    tcase_add_test(t, tbucket_paces_at_rate);
    tcase_add_test(t, tbucket_burst_and_unlimited);
    tcase_add_test(t, pool_reads_shaped_and_verified);
    tcase_add_test(t, pool_reports_failures);
    tcase_add_test(t, pool_writes_then_reads);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hw_store_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
