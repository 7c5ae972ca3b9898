/* Goal searches (see sweep_plan.h). */
#include "sim/sweep_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Probed rates are kept to 6 significant digits so the table reads well
 * and the rate written to the scenario is exactly the one probed. */
static double tidy(double x, int integer)
{
    if (integer)
        return floor(x);
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", x);
    return strtod(buf, NULL);
}

void dp_rate_search_init(struct dp_rate_search *s, double lo, double hi, double tol, int integer)
{
    memset(s, 0, sizeof *s);
    s->lo = integer ? ceil(lo) : tidy(lo, 0);
    s->hi = integer ? floor(hi) : tidy(hi, 0);
    if (s->hi < s->lo)
        s->hi = s->lo;
    s->tol = tol;
    s->integer = integer;
    s->bad = INFINITY;
}

int dp_rate_search_next(const struct dp_rate_search *s, double *rate)
{
    if (!s->probes) {
        *rate = s->lo;
        return 1;
    }
    if (s->ok <= 0)
        return 0;                      /* not even lo: nothing to search */
    if (isinf(s->bad)) {
        if (s->ok >= s->hi)
            return 0;                  /* hi met the SLO: capped */
        double r = tidy(s->ok * 2, s->integer);
        *rate = r > s->hi ? s->hi : r;
        return 1;
    }
    double gap = s->bad - s->ok;
    if (s->integer ? gap <= 1 : gap <= s->tol * s->ok)
        return 0;
    double mid = tidy((s->ok + s->bad) / 2, s->integer);
    if (mid <= s->ok || mid >= s->bad)
        return 0;                      /* cannot split further at this precision */
    *rate = mid;
    return 1;
}

void dp_rate_search_feed(struct dp_rate_search *s, double rate, int pass)
{
    s->probes++;
    if (pass && rate > s->ok)
        s->ok = rate;
    if (!pass && rate < s->bad)
        s->bad = rate;
}

double dp_rate_search_answer(const struct dp_rate_search *s, int *capped)
{
    if (capped)
        *capped = s->ok > 0 && s->ok >= s->hi;
    return s->ok;
}

/* min_gpus visits configurations by GPUs, ties by index. */
static const uint32_t *sort_gpus;
static int by_gpus(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    if (sort_gpus[x] != sort_gpus[y])
        return sort_gpus[x] < sort_gpus[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

int dp_plan_init(struct dp_plan *p, const struct dp_sweep_goal *g, uint64_t n,
                 const uint32_t *gpus)
{
    memset(p, 0, sizeof *p);
    p->kind = g->kind;
    p->n = n;
    p->best_gpus = UINT32_MAX;
    p->gpus = malloc(n * sizeof *p->gpus);
    p->running = calloc(n, 1);
    if (!p->gpus || !p->running)
        goto oom;
    memcpy(p->gpus, gpus, n * sizeof *gpus);
    if (g->kind == DP_GOAL_MAX_RATE) {
        if (!(p->rs = malloc(n * sizeof *p->rs)))
            goto oom;
        for (uint64_t c = 0; c < n; c++)
            dp_rate_search_init(&p->rs[c], g->rate_lo, g->rate_hi, g->tolerance, g->rate_integer);
    }
    if (g->kind == DP_GOAL_MIN_GPUS) {
        if (!(p->order = malloc(n * sizeof *p->order)))
            goto oom;
        for (uint64_t c = 0; c < n; c++)
            p->order[c] = c;
        sort_gpus = p->gpus;
        qsort(p->order, n, sizeof *p->order, by_gpus);
    }
    return 0;
oom:
    dp_plan_free(p);
    return DP_ENOMEM;
}

void dp_plan_free(struct dp_plan *p)
{
    free(p->gpus);
    free(p->running);
    free(p->rs);
    free(p->order);
    memset(p, 0, sizeof *p);
}

static int next_rate(struct dp_plan *p, struct dp_probe *pr)
{
    double r;
    while (p->next < p->n && !p->running[p->next] && !dp_rate_search_next(&p->rs[p->next], &r))
        p->next++;                     /* finished searches are never looked at again */
    for (uint64_t c = p->next; c < p->n; c++) {
        if (p->running[c] || !dp_rate_search_next(&p->rs[c], &r))
            continue;
        *pr = (struct dp_probe){ c, p->rs[c].probes, r };
        return 1;
    }
    return 0;
}

int dp_plan_next(struct dp_plan *p, struct dp_probe *pr)
{
    int got = 0;
    if (p->kind == DP_GOAL_MAX_RATE)
        got = next_rate(p, pr);
    else if (p->next < p->n) {
        uint64_t c = p->kind == DP_GOAL_MIN_GPUS ? p->order[p->next] : p->next;
        /* past the least GPUs that met the SLO, nothing can improve the answer */
        got = p->kind != DP_GOAL_MIN_GPUS || p->gpus[c] <= p->best_gpus;
        if (got) {
            p->next++;
            *pr = (struct dp_probe){ c, 0, NAN };
        }
    }
    if (got) {
        p->running[pr->cfg] = 1;
        p->in_flight++;
        return 1;
    }
    return p->in_flight ? 0 : -1;
}

void dp_plan_feed(struct dp_plan *p, const struct dp_probe *pr, int pass)
{
    p->running[pr->cfg] = 0;
    p->in_flight--;
    if (p->kind == DP_GOAL_MAX_RATE)
        dp_rate_search_feed(&p->rs[pr->cfg], pr->rate, pass);
    if (p->kind == DP_GOAL_MIN_GPUS && pass && p->gpus[pr->cfg] < p->best_gpus)
        p->best_gpus = p->gpus[pr->cfg];
}

int dp_plan_keeps(const struct dp_plan *p, uint64_t cfg)
{
    return p->kind != DP_GOAL_MIN_GPUS || p->gpus[cfg] <= p->best_gpus;
}

int dp_plan_run(struct dp_plan *p, dp_plan_eval_fn eval, void *ctx)
{
    struct dp_probe pr;
    while (dp_plan_next(p, &pr) == 1) {
        int pass = 0, rc = eval(ctx, &pr, &pass);
        if (rc)
            return rc;
        dp_plan_feed(p, &pr, pass);
    }
    return 0;
}
