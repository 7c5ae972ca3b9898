/* What core does when a platform reports a failed op (core/platform.h,
 * rule 3): a failed storage read is retried once over the other engine's
 * storage NIC; a read that fails on both paths, a failed prefill compute,
 * handoff move or decode step fails the requests it carried, alone; a
 * failed write-back counts its request as failed and costs the next turn
 * its cache. Never the run.
 *
 * The workload is written by hand, on tests/data/small.yaml's cluster
 * (1 PE + 1 DE, 64-token blocks, Basic: every read on the PE's path), on
 * the scripted fake platform:
 *   session A: turn 0 appends 640 tokens (10 blocks) and generates 10;
 *              turns 1 and 2 append 64 and generate 10, after 1 s of think
 *              time (the write-back, a few ms on the fake, lands first);
 *   session B: one turn of 640 tokens, 10 out.
 * So A1's input is 640 + 10 + 64 = 714 tokens, of which storage holds
 * (640 + 10) / 64 = 10 whole blocks (640 tokens) after A0's write-back: A1
 * reads 10 blocks and computes 74 tokens. Ids: A0 = 0 and B0 = 1 (both
 * issued at t = 0, in session order), A1 = 2, A2 = 3. The first prefill
 * batch holds A0 alone (B0 arrives while it runs), and so does the first
 * decode step. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/engine.h"
#include "core/metrics.h"
#include "core/request.h"
#include "fake_platform.h"

static struct dp_scenario sc;
static struct dp_workload wl;

static void setup(void)
{
    struct dp_err err = { "" };
    ck_assert_msg(dp_scenario_load(&sc, DP_TEST_DATA "/small.yaml", &err) == 0, "%s", err.msg);
    dp_workload_init(&wl, sc.workload.block_tokens);
    struct dp_turn a[3] = {
        { .append_tokens = 640, .output_tokens = 10 },
        { .append_tokens = 64, .output_tokens = 10, .think_ns = 1000000000ull },
        { .append_tokens = 64, .output_tokens = 10, .think_ns = 1000000000ull },
    };
    struct dp_turn b[1] = { { .append_tokens = 640, .output_tokens = 10 } };
    struct dp_session *s = dp_workload_add(&wl, 0, 0, a, 3);
    ck_assert_ptr_nonnull(s);
    s->id = 100;
    s = dp_workload_add(&wl, 0, 0, b, 1);
    ck_assert_ptr_nonnull(s);
    s->id = 200;
}

static void teardown(void) { dp_workload_free(&wl); }

/* Which op fails: the n-th (from 1) of a kind, counted by the hook. */
struct script {
    int kind;          /* one of the F_* below */
    int nth;           /* 0: every one */
    int seen;
};
enum { F_READ, F_WRITE, F_HANDOFF, F_PREFILL, F_DECODE };

static int op_kind(const struct dp_xfer *x, const struct dp_compute *k)
{
    if (k)
        return k->kind == DP_C_PREFILL_LAYER ? F_PREFILL : F_DECODE;
    if (x->kind == DP_X_STORAGE_READ)
        return F_READ;
    if (x->kind == DP_X_STORAGE_WRITE)
        return F_WRITE;
    return x->kind == DP_X_KV && x->req ? F_HANDOFF : -1;
}

static int scripted(struct fake *f, struct dp_xfer *x, struct dp_compute *k)
{
    struct script *sp = f->user;
    if (op_kind(x, k) != sp->kind)
        return 0;
    sp->seen++;
    return sp->nth == 0 || sp->seen == sp->nth ? DP_EIO : 0;
}

/* Run the hand-written workload with ops of `kind` failing (the nth, or
 * all); the run must end by itself with no error, every request issued
 * released once. */
static void run(struct fake *f, struct script *sp)
{
    struct dp_err err = { "" };
    memset(f, 0, sizeof *f);
    f->status_of = scripted;
    f->user = sp;
    ck_assert_msg(dp_core_create(&f->core, &sc, &wl, &fake_ops, f, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(dp_core_start(f->core), 0);
    while (!dp_core_done(f->core) && fake_step(f))
        ;
    ck_assert(dp_core_done(f->core));
    ck_assert_msg(dp_core_error(f->core, &err) == 0, "%s", err.msg);
    struct dp_seam_stats s;
    dp_core_seam_stats(f->core, &s);
    ck_assert_uint_eq(s.releases, s.requests);
    ck_assert_uint_eq(f->releases, s.requests);
    ck_assert_uint_eq(s.moves_done, s.moves);
    ck_assert_uint_eq(s.computes_done, s.computes);
}

static const struct dp_req_rec *rec_of(struct dp_core *c, uint64_t id)
{
    const struct dp_metrics *m = dp_core_metrics(c);
    for (size_t i = 0; i < m->n_recs; i++)
        if (m->recs[i].id == id)
            return &m->recs[i];
    ck_abort_msg("no record of request %llu", (unsigned long long)id);
    return NULL;
}

static void done(struct fake *f)
{
    dp_core_destroy(f->core);
    free(f->ev);
}

/* The reference: nothing fails; A1 reads 10 blocks over the PE's path. */
START_TEST(nothing_fails)
{
    struct fake f;
    struct script sp = { F_READ, -1, 0 };   /* nth -1: never */
    run(&f, &sp);
    const struct dp_metrics *m = dp_core_metrics(f.core);
    ck_assert_uint_eq(m->n_recs, 4);
    ck_assert_uint_eq(m->failed, 0);
    ck_assert_uint_eq(m->retried, 0);
    ck_assert_uint_eq(rec_of(f.core, 2)->input_tokens, 714);
    ck_assert_uint_eq(rec_of(f.core, 2)->cached_tokens, 640);
    ck_assert_uint_eq(rec_of(f.core, 2)->de_cached_tokens, 0);
    ck_assert_uint_eq(rec_of(f.core, 2)->new_tokens, 74);
    ck_assert_uint_eq(sp.seen, 2);   /* A1's and A2's reads */
    done(&f);
}
END_TEST

/* A1's read fails on the PE's path: retried on the DE's, where all 10
 * blocks then sit; nothing fails. */
START_TEST(read_retried_on_the_other_path)
{
    struct fake f;
    struct script sp = { F_READ, 1, 0 };
    run(&f, &sp);
    const struct dp_metrics *m = dp_core_metrics(f.core);
    ck_assert_uint_eq(m->n_recs, 4);
    ck_assert_uint_eq(m->failed, 0);
    ck_assert_uint_eq(m->retried, 1);
    const struct dp_req_rec *a1 = rec_of(f.core, 2);
    ck_assert_uint_eq(a1->failed, 0);
    ck_assert_uint_eq(a1->cached_tokens, 640);
    ck_assert_uint_eq(a1->de_cached_tokens, 640);
    ck_assert_int_eq(a1->de, 1);
    ck_assert_uint_eq(sp.seen, 3);   /* A1 twice, A2 once */
    done(&f);
}
END_TEST

/* Every read fails: A1 fails after its retry, session A ends there (A2 is
 * never issued); A0 and B0 are unaffected. */
START_TEST(read_failing_twice_fails_the_request)
{
    struct fake f;
    struct script sp = { F_READ, 0, 0 };
    run(&f, &sp);
    const struct dp_metrics *m = dp_core_metrics(f.core);
    ck_assert_uint_eq(m->n_recs, 3);
    ck_assert_uint_eq(m->failed, 1);
    ck_assert_uint_eq(m->retried, 1);
    ck_assert_uint_eq(rec_of(f.core, 2)->failed, 1);
    ck_assert_uint_eq(rec_of(f.core, 0)->failed, 0);
    ck_assert_uint_eq(rec_of(f.core, 1)->failed, 0);
    ck_assert_uint_eq(sp.seen, 2);
    struct dp_summary s;
    struct dp_engine_caps caps[2] = { { 1, 1, 1, 0 }, { 1, 1, 1, 1 } };
    ck_assert_int_eq(dp_summarize(m, caps, 1, 5, 0.05, &s), 0);
    ck_assert_uint_eq(s.failed, 1);
    ck_assert_uint_eq(s.requests, 2);
    done(&f);
}
END_TEST

/* The first batch's first layer fails: A0 (alone in it) fails at the
 * batch's end, session A ends; B0 completes. */
START_TEST(prefill_failure_fails_its_batch)
{
    struct fake f;
    struct script sp = { F_PREFILL, 1, 0 };
    run(&f, &sp);
    const struct dp_metrics *m = dp_core_metrics(f.core);
    ck_assert_uint_eq(m->n_recs, 2);
    ck_assert_uint_eq(m->failed, 1);
    ck_assert_uint_eq(rec_of(f.core, 0)->failed, 1);
    ck_assert_uint_eq(rec_of(f.core, 1)->failed, 0);
    done(&f);
}
END_TEST

/* A0's handoff move fails: A0 fails, its DE's HBM goes back, B0 goes on. */
START_TEST(handoff_failure_fails_the_request)
{
    struct fake f;
    struct script sp = { F_HANDOFF, 1, 0 };
    run(&f, &sp);
    const struct dp_metrics *m = dp_core_metrics(f.core);
    ck_assert_uint_eq(m->n_recs, 2);
    ck_assert_uint_eq(rec_of(f.core, 0)->failed, 1);
    ck_assert_uint_eq(rec_of(f.core, 1)->failed, 0);
    uint32_t n;
    const struct dp_engine *e = dp_core_engines(f.core, &n);
    ck_assert_double_eq(e[1].hbm_used, 0);
    ck_assert_double_eq(e[0].hbm_used, 0);
    done(&f);
}
END_TEST

/* The first decode step (A0 alone) fails: A0 fails, B0 completes. */
START_TEST(decode_failure_fails_its_step)
{
    struct fake f;
    struct script sp = { F_DECODE, 1, 0 };
    run(&f, &sp);
    const struct dp_metrics *m = dp_core_metrics(f.core);
    ck_assert_uint_eq(m->n_recs, 2);
    ck_assert_uint_eq(m->failed, 1);
    ck_assert_uint_eq(rec_of(f.core, 0)->failed, 1);
    ck_assert_uint_eq(rec_of(f.core, 1)->failed, 0);
    done(&f);
}
END_TEST

/* A0's write-back fails: A0 counts as failed (its answer was out, its KV
 * is not in storage), session A goes on, and A1 finds nothing cached: all
 * 714 tokens computed. */
START_TEST(writeback_failure_costs_the_cache)
{
    struct fake f;
    struct script sp = { F_WRITE, 1, 0 };
    run(&f, &sp);
    const struct dp_metrics *m = dp_core_metrics(f.core);
    ck_assert_uint_eq(m->n_recs, 4);
    ck_assert_uint_eq(m->failed, 1);
    ck_assert_uint_eq(rec_of(f.core, 0)->failed, 1);
    const struct dp_req_rec *a1 = rec_of(f.core, 2);
    ck_assert_uint_eq(a1->failed, 0);
    ck_assert_uint_eq(a1->cached_tokens, 0);
    ck_assert_uint_eq(a1->new_tokens, 714);
    done(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("failures");
    TCase *tc = tcase_create("fake");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, nothing_fails);
    tcase_add_test(tc, read_retried_on_the_other_path);
    tcase_add_test(tc, read_failing_twice_fails_the_request);
    tcase_add_test(tc, prefill_failure_fails_its_batch);
    tcase_add_test(tc, handoff_failure_fails_the_request);
    tcase_add_test(tc, decode_failure_fails_its_step);
    tcase_add_test(tc, writeback_failure_costs_the_cache);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
