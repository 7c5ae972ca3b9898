#include "sim/run.h"

#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/invariants.h"
#include "sim/simplat.h"
#include "traces/trace.h"

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(const struct dp_sim *s, struct dp_core *core, const char *label,
                     double t0, int final)
{
    double wall = wall_now() - t0;
    uint64_t done = dp_core_requests_done(core), total = dp_core_requests_total(core);
    fprintf(stderr, "\r%s t=%.1fs  requests %llu/%llu (%.0f%%)  %.1fM events  %.2fM ev/s%s",
            label ? label : "sim", (double)s->now / 1e9, (unsigned long long)done,
            (unsigned long long)total, total ? 100.0 * done / total : 100.0,
            (double)s->q.popped / 1e6, wall > 0 ? s->q.popped / wall / 1e6 : 0,
            final ? "\n" : "   ");
}

/* The event loop. Rates are settled before time moves past `now`, so every
 * flow change at one instant costs one recompute. An interrupt (the flag a
 * signal handler sets) is seen at the next event. inv, when not NULL,
 * checks the invariants (sim/invariants.h) as the run goes. */
static int loop(struct dp_sim *s, struct dp_core *core, const struct dp_sim_opts *o,
                double t0, struct dp_inv *inv, struct dp_err *err)
{
    double next_progress = t0 + 0.5;
    volatile sig_atomic_t *intr = o ? o->interrupt : NULL;
    while (!dp_core_done(core)) {
        if (intr && *intr)
            return DP_EINTR;
        struct dp_ev *ev = dp_evq_peek(&s->q);
        if (dp_net_dirty(&s->net) && (!ev || ev->t > s->now)) {
            dp_net_settle(&s->net, s->now);
            if (s->net.err)
                return dp_err_set(err, s->net.err, "out of memory for the event queue at t=%.3f s",
                                  (double)s->now / 1e9);
            if (inv && dp_inv_links(inv, &s->net, s->now))
                return dp_inv_error(inv, err);
            continue;
        }
        if (!ev)
            return dp_err_set(err, DP_ESTATE,
                              "simulation stalled at t=%.3f s with %llu of %llu requests finished: "
                              "nothing left to happen (a request larger than an engine's memory?)",
                              (double)s->now / 1e9,
                              (unsigned long long)dp_core_requests_done(core),
                              (unsigned long long)dp_core_requests_total(core));
        dp_evq_pop(&s->q);
        if (o && s->q.popped == o->hook_at && o->hook)
            o->hook(s->q.popped);
        if (inv && dp_inv_time(inv, ev->t))
            return dp_inv_error(inv, err);
        s->now = ev->t;
        ev->fn(ev, ev->ctx);
        if (inv) {
            uint32_t n;
            const struct dp_engine *e = dp_core_engines(core, &n);
            if (dp_inv_engines(inv, e, n, s->now))
                return dp_inv_error(inv, err);
        }
        if ((s->q.popped & 0xffff) == 0 && o && o->progress) {
            double now = wall_now();
            if (now >= next_progress) {
                progress(s, core, o->label, t0, 0);
                next_progress = now + 0.5;
            }
        }
    }
    if (o && o->progress)
        progress(s, core, o->label, t0, 1);
    return dp_core_error(core, err);
}

int dp_sim_drive(struct dp_sim *s, struct dp_core *core, struct dp_err *err)
{
    return loop(s, core, NULL, wall_now(), NULL, err);
}

void dp_sim_result_checks(FILE *out, const struct dp_sim_result *res)
{
    if (!res->checked)
        return;
    fprintf(out, "\nchecks     DUALPATH_CHECK: %llu events, %llu link settles, %llu engine states within "
                 "bounds; %s\n",
            (unsigned long long)res->check_events, (unsigned long long)res->check_links,
            (unsigned long long)res->check_engines,
            res->checked_end ? "end of run: every request completed once, queues and memory drained, "
                               "bytes conserved"
                             : "end-of-run checks not run (the run did not finish)");
}

int dp_sim_run(const struct dp_scenario *sc, const struct dp_workload *w,
               const struct dp_sim_opts *opts, struct dp_sim_result *res, struct dp_err *err)
{
    memset(res, 0, sizeof *res);
    struct dp_sim s;
    struct dp_core *core = NULL;
    double t0 = wall_now();
    int rc = dp_sim_init(&s, sc, err);
    if (!rc)
        rc = dp_core_create(&core, sc, w, &dp_sim_ops, &s, err);
    if (!rc) {
        s.core = core;
        rc = dp_core_start(core);
        if (rc)
            dp_core_error(core, err);
    }
    struct dp_inv inv, *check = NULL;
    if (!rc && dp_inv_wanted() && dp_inv_init(&inv, w, dp_kv_bytes_per_token(&sc->model)) == 0)
        check = &inv;
    if (!rc)
        rc = loop(&s, core, opts, t0, check, err);
    if (!rc && check &&
        dp_inv_end(check, &s, core, w, dp_core_metrics(core)))
        rc = dp_inv_error(check, err);
    if (check) {
        res->checked = 1;
        res->checked_end = !rc;
        res->check_events = check->events;
        res->check_links = check->link_checks;
        res->check_engines = check->engine_checks;
        dp_inv_free(check);
    }
    if (rc == DP_EINTR) {
        res->interrupted = 1;
        if (core)
            dp_core_stop(core);
        dp_err_set(err, DP_EINTR, "interrupted at simulated t=%.3f s", (double)s.now / 1e9);
    }
    if (core && (!rc || rc == DP_EINTR)) {
        struct dp_metrics *m = dp_core_metrics(core);
        res->metrics = *m;
        memset(m, 0, sizeof *m);   /* ownership moves to the result */
        res->metrics.complete = !res->interrupted;
        res->n_pe = sc->cluster.prefill_engines;
        res->n_de = sc->cluster.decode_engines;
        res->caps = calloc(s.n_engines, sizeof *res->caps);
        for (uint32_t e = 0; res->caps && e < s.n_engines; e++)
            res->caps[e] = (struct dp_engine_caps){ s.hw[e].snic_bw, s.hw[e].cnic_bw,
                                                    s.hw[e].pcie_bw, e >= res->n_pe };
        if (!res->caps)
            rc = dp_err_set(err, DP_ENOMEM, "out of memory");
    }
    res->events = s.q.popped;
    res->wall_s = wall_now() - t0;
    dp_core_destroy(core);
    dp_sim_free(&s);
    return rc;
}

void dp_sim_result_free(struct dp_sim_result *res)
{
    dp_metrics_free(&res->metrics);
    free(res->caps);
    memset(res, 0, sizeof *res);
}

void dp_sim_result_info(const struct dp_sim_result *res, const struct dp_scenario *sc,
                        const char *source, struct dp_run_info *info)
{
    memset(info, 0, sizeof *info);
    info->sc = sc;
    info->platform = "sim";
    info->workload_source = source;
    info->m = &res->metrics;
    info->caps = res->caps;
    info->n_pe = res->n_pe;
    info->n_de = res->n_de;
    info->wall_s = res->wall_s;
    info->events = res->events;
    dp_report_summarize(info);
}
