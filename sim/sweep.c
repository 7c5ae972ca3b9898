/* dualpath sweep: capacity planning over a scenario's sweep: section
 * (sweep_spec.h for the syntax, scenarios/planning/ for worked examples).
 *
 * The command plans points with sweep_plan (a pure search over results),
 * runs them on forked workers and, under mpirun, on other ranks
 * (sweep_pool.h), journals each as it finishes and writes the table at the
 * end (sweep_store.h). A point is identified by the hash of its resolved
 * scenario: a point already in the journal, or one two configurations
 * share, is simulated once. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/grow.h"
#include "base/u64map.h"
#include "sim/cli.h"
#include "sim/plot.h"
#include "sim/sweep_plan.h"
#include "sim/sweep_pool.h"
#include "sim/sweep_spec.h"
#include "sim/sweep_store.h"

struct opts {
    const char *file, *prefix;
    int jobs, resume, restart, plot, list;
    struct dp_cli_common c;     /* -o, --seed, --set, -q */
};

/* One distinct simulation. */
struct point {
    uint64_t hash;
    int done, from_journal, used;
    struct dp_sweep_res res;
    char *text;                 /* owned: the overrides, for the journal's label */
};

/* One probe of the plan: a row of the table once its point is done. */
struct row {
    struct dp_probe pr;
    uint32_t point;
    int done;
};

struct cfg {
    uint32_t gpus, pe, de;
};

struct sweep {
    struct opts o;
    struct dp_scenario base;
    struct dp_sweep_spec sp;
    struct cfg *cfgs;
    struct dp_plan plan;
    struct dp_journal j;
    struct dp_dist dist;
    struct point *pts;
    size_t n_pts, cap_pts;
    struct row *rows;
    size_t n_rows, cap_rows;
    size_t *waiting;            /* rows whose point is still running */
    size_t n_waiting, cap_waiting;
    struct dp_u64map by_hash;   /* point hash -> index in pts */
    size_t simulated, journaled, shared;
    double t0, last_draw;
    int progress;
    uint64_t wait_at;           /* test hook: wait for a signal after this many points */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- points by hash ------------------------------------------------------ */

/* The point with this hash, created (not done) if new; *is_new says which. */
static int point_for(struct sweep *s, uint64_t h, const char *text, uint32_t *out, int *is_new)
{
    uint64_t known;
    *is_new = !dp_u64map_get(&s->by_hash, h, &known);
    if (!*is_new) {
        *out = (uint32_t)known;
        return 0;
    }
    struct point *grown = dp_grow(s->pts, &s->cap_pts, s->n_pts + 1, sizeof *grown, 256);
    if (!grown)
        return DP_ENOMEM;
    s->pts = grown;
    if (dp_u64map_put(&s->by_hash, h, s->n_pts))
        return DP_ENOMEM;
    struct point *p = &s->pts[s->n_pts];
    memset(p, 0, sizeof *p);
    p->hash = h;
    if (text && !(p->text = strdup(text)))
        return DP_ENOMEM;
    *out = (uint32_t)s->n_pts++;
    return 0;
}

static int from_journal(void *ctx, uint64_t h, const struct dp_sweep_res *r)
{
    struct sweep *s = ctx;
    uint32_t p;
    int is_new;
    if (point_for(s, h, NULL, &p, &is_new))
        return DP_ENOMEM;
    if (is_new) {   /* a point journaled twice keeps its first line */
        s->pts[p].done = s->pts[p].from_journal = 1;
        s->pts[p].res = *r;
    }
    return 0;
}

/* ---- configurations ---------------------------------------------------- */

static int meets(const struct sweep *s, const struct dp_sweep_res *r)
{
    return r->status == 0 && r->s.slo_attainment >= s->sp.goal.slo_attainment;
}

static void rate_text(const struct sweep *s, double rate, char *buf, size_t len)
{
    snprintf(buf, len, s->sp.goal.rate_integer ? "%.0f" : "%.10g", rate);
}

/* Resolve every configuration before any simulation: a value that breaks a
 * scenario rule fails the sweep now, not an hour in. */
static int resolve_configs(struct sweep *s, struct dp_err *err)
{
    static struct dp_scenario sc;
    char text[DP_SWEEP_TEXT], rt[64];
    const struct dp_sweep_goal *g = &s->sp.goal;
    s->cfgs = calloc(s->sp.n_configs, sizeof *s->cfgs);
    uint32_t *gpus = malloc(s->sp.n_configs * sizeof *gpus);
    int rc = !s->cfgs || !gpus ? dp_err_set(err, DP_ENOMEM, "out of memory") : 0;
    rate_text(s, g->rate_integer ? ceil(g->rate_lo) : g->rate_lo, rt, sizeof rt);
    for (uint64_t c = 0; !rc && c < s->sp.n_configs; c++) {
        sc = s->base;
        struct dp_err e = { "" };
        if (dp_sweep_point_text(&s->sp, &s->base, c, g->kind == DP_GOAL_MAX_RATE ? rt : NULL, text,
                                sizeof text, &e) || dp_sweep_apply(&sc, text, &e)) {
            char label[1024];
            dp_sweep_config_label(&s->sp, c, label, sizeof label);
            rc = dp_err_set(err, DP_EINVAL, "%s:%u: sweep: configuration %llu (%.300s): %.300s", s->sp.file,
                            s->sp.line, (unsigned long long)c, label, e.msg);
            break;
        }
        s->cfgs[c] = (struct cfg){ dp_sweep_gpus(&sc), sc.cluster.prefill_engines, sc.cluster.decode_engines };
        gpus[c] = s->cfgs[c].gpus;
    }
    if (!rc && dp_plan_init(&s->plan, g, s->sp.n_configs, gpus))
        rc = dp_err_set(err, DP_ENOMEM, "out of memory");
    free(gpus);
    return rc;
}

/* ---- the run loop ------------------------------------------------------ */

/* Configurations whose search is over (max_rate has no fixed point count). */
static uint64_t searched(const struct sweep *s)
{
    uint64_t k = 0;
    double r;
    for (uint64_t c = 0; c < s->sp.n_configs; c++)
        k += !s->plan.running[c] && !dp_rate_search_next(&s->plan.rs[c], &r);
    return k;
}

static void draw(struct sweep *s, int final)
{
    double t = now_s();
    if (!s->progress || (!final && t - s->last_draw < 0.2))
        return;
    s->last_draw = t;
    size_t done = 0;
    for (size_t r = 0; r < s->n_rows; r++)
        done += s->rows[r].done;
    uint64_t n = s->sp.n_configs, k = s->sp.goal.kind == DP_GOAL_MAX_RATE ? searched(s) : done;
    double frac = final ? 1 : k > n ? 1 : (double)k / n;
    char bar[31];
    for (int i = 0; i < 30; i++)
        bar[i] = i < (int)(frac * 30) ? '#' : '-';
    bar[30] = 0;
    int el = (int)(t - s->t0);
    fprintf(stderr, "\rsweep [%s] %llu/%llu configurations, %zu points (%zu from the journal), %llu running, %d:%02d%s",
            bar, (unsigned long long)(k > n ? n : k), (unsigned long long)n, done, s->journaled,
            (unsigned long long)s->plan.in_flight, el / 60, el % 60, final ? "\n" : "  ");
}

static int add_row(struct sweep *s, const struct dp_probe *pr, uint32_t point)
{
    struct row *r = dp_grow(s->rows, &s->cap_rows, s->n_rows + 1, sizeof *r, 256);
    if (!r)
        return DP_ENOMEM;
    s->rows = r;
    s->rows[s->n_rows++] = (struct row){ *pr, point, 0 };
    return 0;
}

static void finish_row(struct sweep *s, struct row *r)
{
    r->done = 1;
    dp_plan_feed(&s->plan, &r->pr, meets(s, &s->pts[r->point].res));
}

/* A probe from the plan: answered from a known point, or sent to a worker. */
static int take_probe(struct sweep *s, const struct dp_probe *pr, struct dp_err *err)
{
    static struct dp_scenario sc;
    char text[DP_SWEEP_TEXT], rt[64];
    rate_text(s, pr->rate, rt, sizeof rt);
    sc = s->base;
    struct dp_err e = { "" };
    int rc = dp_sweep_point_text(&s->sp, &s->base, pr->cfg,
                                 s->sp.goal.kind == DP_GOAL_MAX_RATE ? rt : NULL, text, sizeof text, &e);
    if (!rc)
        rc = dp_sweep_apply(&sc, text, &e);
    if (rc) {   /* configurations were checked up front: only a probed rate gets here */
        char label[1024];
        dp_sweep_config_label(&s->sp, pr->cfg, label, sizeof label);
        return dp_err_set(err, rc, "%s:%u: sweep: %.200s with %s=%s: %.300s", s->sp.file, s->sp.line,
                          label, s->sp.goal.rate_key, rt, e.msg);
    }
    uint32_t p;
    int is_new;
    if (point_for(s, dp_sweep_hash(&sc), text, &p, &is_new) || add_row(s, pr, p))
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    struct point *pt = &s->pts[p];
    pt->used = 1;
    if (pt->done) {
        if (pt->from_journal)
            s->journaled++;
        else
            s->shared++;
        finish_row(s, &s->rows[s->n_rows - 1]);
        return 0;
    }
    size_t *w = dp_grow(s->waiting, &s->cap_waiting, s->n_waiting + 1, sizeof *w, 64);
    if (!w)
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    s->waiting = w;
    s->waiting[s->n_waiting++] = s->n_rows - 1;
    if (!is_new)   /* in flight for another configuration: wait for it */
        return 0;
    return dp_dist_submit(&s->dist, p, text, err);
}

static int take_result(struct sweep *s, uint32_t p, const struct dp_sweep_res *res, struct dp_err *err)
{
    struct point *pt = &s->pts[p];
    pt->res = *res;
    pt->done = 1;
    s->simulated++;
    char label[DP_SWEEP_TEXT];
    snprintf(label, sizeof label, "%s", pt->text ? pt->text : "");
    for (char *c = label; *c; c++)
        if (*c == '\n')
            *c = ' ';
    int rc = dp_journal_append(&s->j, pt->hash, res, label, err);
    if (!rc && s->simulated == s->wait_at)
        dp_cli_test_wait("point", s->simulated);
    if (res->status)
        fprintf(stderr, "%sdualpath sweep: a point failed and counts as missing the SLO: %s: %s\n",
                s->progress ? "\n" : "", label, res->err);
    size_t k = 0;
    for (size_t i = 0; i < s->n_waiting; i++) {
        struct row *r = &s->rows[s->waiting[i]];
        if (r->point == p)
            finish_row(s, r);
        else
            s->waiting[k++] = s->waiting[i];
    }
    s->n_waiting = k;
    return rc;
}

static int run_loop(struct sweep *s, struct dp_err *err)
{
    for (;;) {
        int next = 0;
        struct dp_probe pr;
        while (!dp_interrupted && dp_dist_idle(&s->dist) > 0 && (next = dp_plan_next(&s->plan, &pr)) == 1)
            if (take_probe(s, &pr, err))
                return -1;
        draw(s, 0);
        if (dp_interrupted)
            return DP_EINTR;
        if (next == -1)
            return 0;
        uint32_t p;
        struct dp_sweep_res res;
        int rc = dp_dist_wait(&s->dist, 200, &p, &res, err);
        if (rc < 0)
            return rc;
        if (rc == 1 && take_result(s, p, &res, err))
            return -1;
    }
}

/* ---- the answer ------------------------------------------------------- */

static int by_probe(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->pr.cfg != y->pr.cfg)
        return x->pr.cfg < y->pr.cfg ? -1 : 1;
    return x->pr.seq < y->pr.seq ? -1 : x->pr.seq > y->pr.seq;
}

/* Per configuration: its figures and, for max_rate, its capacity (the
 * representative point is the probe at the capacity). */
static void config_rows(struct sweep *s, struct dp_sweep_cfgrow *cr)
{
    int mr = s->sp.goal.kind == DP_GOAL_MAX_RATE;
    for (uint64_t c = 0; c < s->sp.n_configs; c++) {
        cr[c] = (struct dp_sweep_cfgrow){ c, s->cfgs[c].gpus, s->cfgs[c].pe, s->cfgs[c].de, 0, 0, 0, 0, 0, NULL };
        double r;
        if (mr && (s->plan.running[c] || dp_rate_search_next(&s->plan.rs[c], &r))) {
            cr[c].capacity = NAN;   /* an interrupted sweep: this search is not over */
        } else if (mr) {
            cr[c].capacity = dp_rate_search_answer(&s->plan.rs[c], &cr[c].capped);
            cr[c].meets = cr[c].capacity > 0;
        }
    }
    for (size_t i = 0; i < s->n_rows; i++) {   /* the finished rows (finish()) */
        const struct row *r = &s->rows[i];
        struct dp_sweep_cfgrow *c = &cr[r->pr.cfg];
        const struct dp_sweep_res *res = &s->pts[r->point].res;
        c->evaluated = 1;
        c->probes++;
        if (!mr) {
            c->res = res;
            c->meets = meets(s, res);
        } else if (c->meets && r->pr.rate == c->capacity) {
            c->res = res;
        }
    }
}

static void label_of(const struct sweep *s, uint64_t c, char *buf, size_t len)
{
    dp_sweep_config_label(&s->sp, c, buf, len);
    size_t u = strlen(buf);
    snprintf(buf + u, len - u, " [%u PE + %u DE, %u GPUs]", s->cfgs[c].pe, s->cfgs[c].de, s->cfgs[c].gpus);
}

static void answer_max_rate(const struct sweep *s, const struct dp_sweep_cfgrow *cr, char *out, size_t len)
{
    const struct dp_sweep_goal *g = &s->sp.goal;
    int64_t best = -1, best_per = -1;
    for (uint64_t c = 0; c < s->sp.n_configs; c++) {
        if (cr[c].capacity <= 0)
            continue;
        if (best < 0 || cr[c].capacity > cr[best].capacity)
            best = (int64_t)c;
        if (best_per < 0 || cr[c].capacity / cr[c].gpus > cr[best_per].capacity / cr[best_per].gpus)
            best_per = (int64_t)c;
    }
    char l1[1200], l2[1200];
    if (best < 0) {
        snprintf(out, len, "no configuration serves %s = %g within SLO (attainment >= %g%%); lower rate_lo or add GPUs",
                 g->rate_key, g->rate_lo, 100 * g->slo_attainment);
        return;
    }
    label_of(s, (uint64_t)best, l1, sizeof l1);
    label_of(s, (uint64_t)best_per, l2, sizeof l2);
    snprintf(out, len, "largest %s within SLO: %s%g with %s\nmost per GPU: %.4g per GPU (%g) with %s",
             g->rate_key, cr[best].capped ? ">= " : "", cr[best].capacity, l1,
             cr[best_per].capacity / cr[best_per].gpus, cr[best_per].capacity, l2);
}

static void answer_min_gpus(const struct sweep *s, const struct dp_sweep_cfgrow *cr, char *out, size_t len)
{
    size_t u = 0;
    int64_t closest = -1;
    uint32_t g = s->plan.best_gpus;
    for (uint64_t c = 0; c < s->sp.n_configs; c++) {
        if (cr[c].evaluated && cr[c].res && (closest < 0 || cr[c].res->s.slo_attainment > cr[closest].res->s.slo_attainment))
            closest = (int64_t)c;
        if (g == UINT32_MAX || !cr[c].meets || cr[c].gpus != g)
            continue;
        char l[1200];
        label_of(s, c, l, sizeof l);
        u += (size_t)snprintf(out + u, u < len ? len - u : 0, "%sleast GPUs within SLO: %u with %s, SLO attainment %.1f%%",
                              u ? "\n" : "", g, l, 100 * cr[c].res->s.slo_attainment);
    }
    if (g == UINT32_MAX) {
        char l[1200] = "";
        if (closest >= 0)
            label_of(s, (uint64_t)closest, l, sizeof l);
        snprintf(out, len, "no configuration meets the SLO (attainment >= %g%%); the closest: %s at %.1f%%",
                 100 * s->sp.goal.slo_attainment, l, closest >= 0 ? 100 * cr[closest].res->s.slo_attainment : 0);
    }
}

static void answer_grid(const struct sweep *s, const struct dp_sweep_cfgrow *cr, char *out, size_t len)
{
    int64_t best = -1, fewest = -1;
    uint64_t k = 0;
    for (uint64_t c = 0; c < s->sp.n_configs; c++) {
        if (!cr[c].meets)
            continue;
        k++;
        if (best < 0 || cr[c].res->s.throughput_tok_s > cr[best].res->s.throughput_tok_s)
            best = (int64_t)c;
        if (fewest < 0 || cr[c].gpus < cr[fewest].gpus)
            fewest = (int64_t)c;
    }
    size_t u = (size_t)snprintf(out, len, "%llu of %llu configurations meet the SLO (attainment >= %g%%)",
                                (unsigned long long)k, (unsigned long long)s->sp.n_configs,
                                100 * s->sp.goal.slo_attainment);
    if (best >= 0 && u < len) {
        char l1[1200], l2[1200];
        label_of(s, (uint64_t)best, l1, sizeof l1);
        label_of(s, (uint64_t)fewest, l2, sizeof l2);
        snprintf(out + u, len - u, "\nhighest throughput within SLO: %.0f tokens/s with %s\nfewest GPUs within SLO: %u with %s",
                 cr[best].res->s.throughput_tok_s, l1, cr[fewest].gpus, l2);
    }
}

/* One line per configuration, values in columns under their keys. */
static void print_configs(const struct sweep *s, const struct dp_sweep_cfgrow *cr)
{
    const struct dp_sweep_spec *sp = &s->sp;
    int w[DP_SWEEP_MAX_KEYS];
    for (uint32_t k = 0; k < sp->n_keys; k++) {
        w[k] = (int)strlen(sp->keys[k].name);
        for (uint32_t i = 0; i < sp->keys[k].n; i++)
            if ((int)strlen(sp->keys[k].values[i]) > w[k])
                w[k] = (int)strlen(sp->keys[k].values[i]);
        printf("%-*s  ", w[k], sp->keys[k].name);
    }
    int mr = sp->goal.kind == DP_GOAL_MAX_RATE;
    if (mr)
        printf("%5s %7s %11s %9s %6s\n", "GPUs", "P+D", "capacity", "per GPU", "probes");
    else
        printf("%5s %7s %11s %8s %8s %7s %5s\n", "GPUs", "P+D", "throughput", "TTFT99", "TPOT99", "SLO", "meets");
    /* a second header line: the units (without trailing blanks) */
    char units[4096];
    int u = 0;
    for (uint32_t k = 0; k < sp->n_keys && u < 3000; k++)
        u += snprintf(units + u, sizeof units - (size_t)u, "%-*.*s  ", w[k] < 2900 ? w[k] : 2900, 0, "");
    const char *ru = dp_sweep_key_units(sp->goal.rate_key);
    if (mr)
        snprintf(units + u, sizeof units - (size_t)u, "%5s %7s %11s %9s", "", "", ru, ru);
    else
        snprintf(units + u, sizeof units - (size_t)u, "%5s %7s %11s %8s %8s %7s", "", "", "tokens/s",
                 "s", "ms", "%");
    printf("%s\n", units);
    for (uint64_t c = 0; c < sp->n_configs; c++) {
        if (!cr[c].evaluated && !mr)
            continue;
        for (uint32_t k = 0; k < sp->n_keys; k++)
            printf("%-*s  ", w[k], sp->keys[k].values[dp_sweep_value_index(sp, c, k)]);
        char pd[32];
        snprintf(pd, sizeof pd, "%u+%u", cr[c].pe, cr[c].de);
        if (mr) {
            char cap[32], per[32];
            snprintf(cap, sizeof cap, isnan(cr[c].capacity) ? "unfinished" : cr[c].capacity <= 0 ? "< %g"
                     : cr[c].capped ? ">= %g" : "%g", cr[c].capacity <= 0 ? sp->goal.rate_lo : cr[c].capacity);
            snprintf(per, sizeof per, isnan(cr[c].capacity) ? "-" : cr[c].capacity <= 0 ? "< %.4g" : "%.4g",
                     (cr[c].capacity <= 0 ? sp->goal.rate_lo : cr[c].capacity) / cr[c].gpus);
            printf("%5u %7s %11s %9s %6u\n", cr[c].gpus, pd, cap, per, cr[c].probes);
            continue;
        }
        const struct dp_summary *m = &cr[c].res->s;
        printf("%5u %7s %11.0f %8.3f %8.1f %6.1f%% %5s\n", cr[c].gpus, pd, m->throughput_tok_s, m->ttft_p[2],
               1e3 * m->tpot_p[2], 100 * m->slo_attainment, cr[c].res->status ? "error" : cr[c].meets ? "yes" : "no");
    }
}

/* Write and print the table. complete = 0: the sweep was interrupted; the
 * table holds the points finished so far, is marked incomplete, and the
 * goal is not answered. */
static int finish(struct sweep *s, int complete, struct dp_err *err)
{
    /* the table is in (configuration, probe) order: the same for any -j or rank count */
    qsort(s->rows, s->n_rows, sizeof *s->rows, by_probe);
    size_t n = 0;
    for (size_t i = 0; i < s->n_rows; i++)
        if (s->rows[i].done && dp_plan_keeps(&s->plan, s->rows[i].pr.cfg))
            s->rows[n++] = s->rows[i];   /* others ran ahead of the answer: journaled, not tabled */
    s->n_rows = n;
    struct dp_sweep_row *rows = calloc(n ? n : 1, sizeof *rows);
    struct dp_sweep_cfgrow *cr = calloc(s->sp.n_configs, sizeof *cr);
    char *answer = malloc(1 << 16);
    int rc = 0;
    if (!rows || !cr || !answer)
        rc = dp_err_set(err, DP_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        const struct row *r = &s->rows[i];
        const struct cfg *c = &s->cfgs[r->pr.cfg];
        const struct dp_sweep_res *res = &s->pts[r->point].res;
        rows[i] = (struct dp_sweep_row){ r->pr.cfg, r->pr.seq, r->pr.rate, c->gpus, c->pe, c->de,
                                         meets(s, res), res };
    }
    if (!rc) {
        config_rows(s, cr);
        if (!complete)
            snprintf(answer, 1 << 16, "interrupted before the goal was answered: %zu points finished "
                     "(the same command with --resume continues)", n);
        else if (s->sp.goal.kind == DP_GOAL_MAX_RATE)
            answer_max_rate(s, cr, answer, 1 << 16);
        else if (s->sp.goal.kind == DP_GOAL_MIN_GPUS)
            answer_min_gpus(s, cr, answer, 1 << 16);
        else
            answer_grid(s, cr, answer, 1 << 16);
        struct dp_sweep_table t = { &s->sp, s->base.name, rows, n, cr, s->sp.n_configs, answer, complete };
        rc = dp_sweep_write(s->o.prefix, &t, err);
    }
    if (!rc) {
        print_configs(s, cr);
        printf("\n%s\n\n", answer);
    }
    free(rows);
    free(cr);
    free(answer);
    return rc;
}

/* ---- the command ------------------------------------------------------ */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dualpath sweep SCENARIO.yaml [-j N] [-o PREFIX] [--resume | --restart]\n"
            "\n"
            "Capacity planning: simulate the points of the scenario's sweep: section and\n"
            "answer its goal (scenarios/planning/ has examples).\n"
            "\n"
            "  -j, --jobs N       simulate N points at a time (worker processes; default 1)\n"
            "  -o, --output PFX   PFX.h5 and PFX.csv (the table), PFX.journal (finished points),\n"
            "                     PFX.png (the frontier); default NAME-sweep\n"
            "  --resume           continue an interrupted sweep from PFX.journal\n"
            "  --restart          discard PFX.journal and start over\n"
            "  --seed N, --set KEY=VALUE   as for run, applied before the sweep's values\n"
            "  --list             print the configurations and stop\n"
            "  --no-plot, -q/--quiet\n"
            "\n"
            "Under mpirun, the points spread over every rank's workers and rank 0 writes\n"
            "the table: mpirun -np 4 dualpath sweep S.yaml -j 8. MPI in this build: %s.\n",
            dp_dist_mpi_built() ? "yes" : "no (reconfigure with -DDP_WITH_MPI=ON)");
}

static int parse_args(struct opts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        { "jobs", required_argument, NULL, 'j' },   { "output", required_argument, NULL, 'o' },
        { "resume", no_argument, NULL, 'r' },       { "restart", no_argument, NULL, 'R' },
        { "seed", required_argument, NULL, 's' },   { "set", required_argument, NULL, 'S' },
        { "quiet", no_argument, NULL, 'q' },        { "no-plot", no_argument, NULL, 'P' },
        { "list", no_argument, NULL, 'l' },         { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },      { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->jobs = 1;
    o->plot = 1;
    int c, r;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:o:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'j':
            o->jobs = (int)strtol(optarg, &end, 10);
            if (*end || o->jobs < 1 || o->jobs > 4096) {
                fprintf(stderr, "dualpath sweep: -j '%s': expected a number of workers from 1 to 4096\n", optarg);
                return 2;
            }
            break;
        case 'r': o->resume = 1; break;
        case 'R': o->restart = 1; break;
        case 'P': o->plot = 0; break;
        case 'l': o->list = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            if ((r = dp_cli_common_opt(&o->c, c, optarg, "sweep")))
                return r == 1 ? 0 : 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (o->resume && o->restart) {
        fprintf(stderr, "dualpath sweep: --resume and --restart contradict each other\n");
        return 2;
    }
    o->file = argv[optind];
    o->prefix = o->c.out;
    return -1;
}

static void list_configs(const struct sweep *s)
{
    static const char *const kinds[] = { "grid", "max_rate", "min_gpus" };
    printf("%llu configurations, goal %s\n", (unsigned long long)s->sp.n_configs, kinds[s->sp.goal.kind]);
    for (uint64_t c = 0; c < s->sp.n_configs; c++) {
        char l[1200];
        label_of(s, c, l, sizeof l);
        printf("%6llu  %s\n", (unsigned long long)c, l);
    }
}

static void sweep_free(struct sweep *s)
{
    for (size_t p = 0; p < s->n_pts; p++)
        free(s->pts[p].text);
    free(s->pts);
    free(s->rows);
    free(s->waiting);
    dp_u64map_free(&s->by_hash);
    free(s->cfgs);
    dp_plan_free(&s->plan);
    dp_sweep_spec_free(&s->sp);
}

static void report_ranks(const struct sweep *s)
{
    if (!s->dist.mpi)
        return;
    printf("points by rank:");
    for (int r = 0; r < s->dist.size; r++)
        printf(" %d:%u", r, s->dist.count[r]);
    printf("\n");
}

/* Rank 0 (or the only process): plan, run, journal, answer. */
static int coordinate(struct sweep *s, struct dp_err *err)
{
    int rc = dp_journal_open(&s->j, s->o.prefix, s->o.resume, s->o.restart, from_journal, s, err);
    if (rc) {
        fprintf(stderr, "dualpath sweep: %s\n", err->msg);
        return 1;
    }
    s->progress = !s->o.c.quiet && isatty(2);
    s->wait_at = dp_cli_test_at("point");
    s->t0 = now_s();
    rc = run_loop(s, err);
    draw(s, 1);
    dp_journal_close(&s->j);
    if (rc == DP_EINTR) {
        struct dp_err werr = { "" };
        if (finish(s, 0, &werr))
            fprintf(stderr, "dualpath sweep: %s\n", werr.msg);
        else
            printf("results    %s.h5, %s.csv (marked incomplete)\n", s->o.prefix, s->o.prefix);
        fprintf(stderr, "dualpath sweep: interrupted; %zu finished points are kept in %s.journal: run the same command with --resume to continue\n",
                s->simulated + s->journaled, s->o.prefix);
        return dp_cli_interrupted_status();
    }
    if (rc) {
        fprintf(stderr, "dualpath sweep: %s\n(finished points are kept in %s.journal; --resume continues)\n", err->msg, s->o.prefix);
        return 1;
    }
    if (finish(s, 1, err)) {
        fprintf(stderr, "dualpath sweep: %s\n", err->msg);
        return 1;
    }
    printf("points     %zu simulated, %zu from the journal, %zu shared by configurations\n",
           s->simulated, s->journaled, s->shared);
    size_t unused = 0;
    for (size_t p = 0; p < s->n_pts; p++)
        unused += s->pts[p].from_journal && !s->pts[p].used;
    if (unused)
        printf("           (%zu journal points not used: other values, or another build of dualpath)\n", unused);
    report_ranks(s);
    printf("results    %s.h5, %s.csv (journal %s.journal)\n", s->o.prefix, s->o.prefix, s->o.prefix);
    return 0;
}

static int check_outputs(const struct sweep *s, struct dp_err *err)
{
    static const char *const ext[] = { "journal", "h5", "csv", "png" };
    char example[300], path[700];
    snprintf(example, sizeof example, "%s-sweep", s->base.name);
    int rc = dp_prefix_check(s->o.prefix, example, err);
    for (int i = 0; !rc && i < 4; i++) {
        snprintf(path, sizeof path, "%s.%s", s->o.prefix, ext[i]);
        if (i < 3 || s->o.plot)
            rc = dp_output_check(path, example, err);
    }
    return rc;
}

static void plot(const struct sweep *s)
{
    char h5[700], png[700];
    snprintf(h5, sizeof h5, "%s.h5", s->o.prefix);
    snprintf(png, sizeof png, "%s.png", s->o.prefix);
    const char *files[1] = { h5 };
    if (dp_plot("plot_sweep.py", png, files, 1) == 0)
        printf("plot       %s\n", png);
}

int dp_cmd_sweep(int argc, char **argv)
{
    static struct sweep s;   /* large (scenario, spec); one per process */
    int rc = parse_args(&s.o, argc, argv);
    if (rc >= 0)
        return rc;
    dp_cli_start();
    /* under mpirun every rank checks the input; rank 0 speaks for all */
    int quiet_rank = dp_dist_env_rank() != 0;
    struct dp_err err = { "" };
    char defprefix[300];
    if (dp_cli_load_scenario(&s.base, s.o.file, s.o.c.seed, s.o.c.have_seed, s.o.c.sets, s.o.c.n_sets, &err) ||
        dp_sweep_spec_load(&s.sp, &s.base, &err) || resolve_configs(&s, &err)) {
        if (!quiet_rank)
            fprintf(stderr, "dualpath: %s\n", err.msg);
        sweep_free(&s);
        return 1;
    }
    if (!s.o.prefix) {
        snprintf(defprefix, sizeof defprefix, "%s-sweep", s.base.name);
        s.o.prefix = defprefix;
    }
    if (s.o.list) {
        if (!quiet_rank)
            list_configs(&s);
        sweep_free(&s);
        return 0;
    }
    /* rank 0 writes every file: checked there, before any simulation */
    if (!quiet_rank && check_outputs(&s, &err)) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        sweep_free(&s);
        return 1;
    }
    rc = dp_dist_open(&s.dist, s.o.jobs, &s.base, &err);
    if (rc) {
        if (!quiet_rank)
            fprintf(stderr, "dualpath: %s\n", err.msg);
        dp_dist_close(&s.dist);
        sweep_free(&s);
        return 1;
    }
    if (s.dist.rank != 0) {
        rc = dp_dist_serve(&s.dist, &err) ? 1 : 0;
        if (rc)
            fprintf(stderr, "dualpath sweep: rank %d: %s\n", s.dist.rank, err.msg);
    } else {
        rc = coordinate(&s, &err);
    }
    int root = s.dist.rank == 0;
    dp_dist_close(&s.dist);
    if (root && rc == 0 && s.o.plot)
        plot(&s);
    sweep_free(&s);
    return rc;
}
