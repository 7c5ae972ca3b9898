/* The synthetic agent generator (traces/README.md, "Synthetic agents").
 *
 * A session is an agent trajectory: turn 0 sends the initial prompt, every
 * later turn appends a tool result or user message after a think/tool delay
 * and generates a short output. The context (all inputs and outputs so far)
 * is the next turn's reusable prefix, which is what makes >95% of the KV
 * cache reusable, as the paper measures on production coding agents.
 *
 * All randomness comes from the caller's gsl_rng, consumed in a fixed order,
 * so one seed always gives the same workload. */
#include "traces/trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>

#include "traces/trace_internal.h"

/* Bounds that keep a typo in a scenario from eating all memory. */
#define SYNTH_MAX_SESSIONS 10000000.0
#define SYNTH_MAX_TURNS 1000000u

void dp_synth_defaults(struct dp_synth_params *p)
{
    memset(p, 0, sizeof *p);
    p->agents = 64;
    p->rate = 0;
    p->duration_s = 0;
    p->turns_mean = 157;          /* production coding agents (paper) */
    p->turns_cv = 0.5;            /* README: keeps ~157 realized under max_context */
    p->turns_max = 1000;
    p->prompt_tokens_mean = 8000; /* system prompt, tool schemas, task */
    p->prompt_tokens_cv = 0.5;
    p->append_tokens_mean = 300;  /* "a few hundred" tokens of tool result a turn */
    p->append_tokens_cv = 1.0;
    p->output_tokens_mean = 100;  /* short outputs: a tool call, a short reply */
    p->output_tokens_cv = 1.0;
    p->think_s_mean = 2.0;        /* tool execution / user time between turns */
    p->think_s_cv = 1.0;
    p->max_context = 131072;      /* a 128K-context model */
    p->start_spread_s = 0;
}

/* ------------------------------------------------------------ validate */

#define PARAM "workload.synthetic."

static int bad(struct dp_err *err, const char *name, const char *what)
{
    return dp_err_set(err, DP_EINVAL, PARAM "%s: %s", name, what);
}

static int check_cv(struct dp_err *err, const char *name, double cv)
{
    if (!isfinite(cv) || cv < 0)
        return bad(err, name, "must be >= 0 (a coefficient of variation)");
    if (cv > 100)
        return bad(err, name, "must be <= 100");
    return 0;
}

static int validate(const struct dp_synth_params *p, struct dp_err *err)
{
    int rc;
    if (!isfinite(p->rate) || p->rate < 0)
        return bad(err, "rate", "must be >= 0 (agents per second; 0 = offline)");
    if (!isfinite(p->duration_s) || p->duration_s < 0)
        return bad(err, "duration_s", "must be >= 0");
    if (p->rate > 0) {
        if (p->duration_s <= 0)
            return bad(err, "duration_s", "must be > 0 when rate > 0 (online)");
        if (p->rate * p->duration_s > SYNTH_MAX_SESSIONS)
            return bad(err, "rate", "rate * duration_s must be <= 1e7 sessions");
    } else {
        if (p->agents < 1)
            return bad(err, "agents", "must be >= 1 when rate is 0 (offline)");
        if (p->agents > SYNTH_MAX_SESSIONS)
            return bad(err, "agents", "must be <= 10000000");
    }
    if (!isfinite(p->start_spread_s) || p->start_spread_s < 0)
        return bad(err, "start_spread_s", "must be >= 0");
    if (p->turns_max < 1)
        return bad(err, "turns_max", "must be >= 1");
    if (p->turns_max > SYNTH_MAX_TURNS)
        return bad(err, "turns_max", "must be <= 1000000");
    if (!isfinite(p->turns_mean) || p->turns_mean < 1)
        return bad(err, "turns_mean", "must be >= 1");
    if (p->turns_mean > p->turns_max)
        return bad(err, "turns_mean", "must be <= turns_max");
    if ((rc = check_cv(err, "turns_cv", p->turns_cv)))
        return rc;
    if (!isfinite(p->prompt_tokens_mean) || p->prompt_tokens_mean < 1)
        return bad(err, "prompt_tokens_mean", "must be >= 1");
    if (!isfinite(p->append_tokens_mean) || p->append_tokens_mean < 1)
        return bad(err, "append_tokens_mean", "must be >= 1");
    if (!isfinite(p->output_tokens_mean) || p->output_tokens_mean < 1)
        return bad(err, "output_tokens_mean", "must be >= 1");
    if (!isfinite(p->think_s_mean) || p->think_s_mean < 0)
        return bad(err, "think_s_mean", "must be >= 0");
    if ((rc = check_cv(err, "prompt_tokens_cv", p->prompt_tokens_cv)) ||
        (rc = check_cv(err, "append_tokens_cv", p->append_tokens_cv)) ||
        (rc = check_cv(err, "output_tokens_cv", p->output_tokens_cv)) ||
        (rc = check_cv(err, "think_s_cv", p->think_s_cv)))
        return rc;
    if (p->max_context < 2)
        return bad(err, "max_context", "must be >= 2 (one prompt and one output token)");
    return 0;
}

/* ------------------------------------------------------------- draws */

/* Lognormal with a given mean and coefficient of variation:
 * sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2 / 2. */
struct lognorm {
    double mean, mu, sigma;
};

static struct lognorm lognorm_make(double mean, double cv)
{
    struct lognorm l = {mean, 0, 0};
    if (mean > 0 && cv > 0) {
        double s2 = log1p(cv * cv);
        l.sigma = sqrt(s2);
        l.mu = log(mean) - s2 / 2;
    }
    return l;
}

static double lognorm_draw(const struct lognorm *l, gsl_rng *rng)
{
    if (l->sigma == 0)
        return l->mean;   /* cv 0 (or mean 0): a constant, no draw */
    return gsl_ran_lognormal(rng, l->mu, l->sigma);
}

/* Rounded to an integer token count in [1, UINT32_MAX]. */
static uint32_t tokens_draw(const struct lognorm *l, gsl_rng *rng)
{
    double x = nearbyint(lognorm_draw(l, rng));
    if (!(x >= 1))
        return 1;
    if (x > UINT32_MAX)
        return UINT32_MAX;
    return (uint32_t)x;
}

/* Turns per session: 1 + a negative binomial (a gamma-Poisson mixture) with
 * the requested mean and cv, cut at turns_max. cv 1 is close to a geometric
 * law; a cv below the Poisson's (sqrt(mean - 1) / mean) gives 1 + Poisson;
 * cv 0 gives the mean itself (rounded up or down at random to keep it). */
static uint32_t turns_draw(const struct dp_synth_params *p, gsl_rng *rng)
{
    double m = p->turns_mean, e = m - 1;
    double k;
    if (e <= 0) {
        k = 1;
    } else if (p->turns_cv == 0) {
        k = floor(m) + (gsl_rng_uniform(rng) < m - floor(m) ? 1 : 0);
    } else {
        double var = p->turns_cv * p->turns_cv * m * m;
        if (var <= e * (1 + 1e-9)) {
            k = 1 + gsl_ran_poisson(rng, e);
        } else {
            double shape = e * e / (var - e);
            k = 1 + gsl_ran_negative_binomial(rng, shape / (shape + e), shape);
        }
    }
    if (k > p->turns_max)
        k = p->turns_max;
    return (uint32_t)k;
}

static uint64_t seconds_to_ns(double s)
{
    return s > 0 ? (uint64_t)llround(s * 1e9) : 0;
}

struct draws {
    struct lognorm prompt, append, output, think;
};

/* Fills t[] with one session's turns, returns how many. The session ends at
 * its drawn turn count or before the turn whose input + output would exceed
 * max_context, whichever comes first. */
static uint32_t session_draw(const struct dp_synth_params *p, const struct draws *d,
                             gsl_rng *rng, struct dp_turn *t)
{
    uint32_t n = turns_draw(p, rng);
    uint64_t cap = p->max_context;
    memset(&t[0], 0, sizeof t[0]);
    /* Turn 0 always exists: its prompt and output are cut to fit the cap. */
    uint32_t prompt = tokens_draw(&d->prompt, rng), out = tokens_draw(&d->output, rng);
    if (prompt > cap - 1)
        prompt = (uint32_t)(cap - 1);
    if (out > cap - prompt)
        out = (uint32_t)(cap - prompt);
    t[0].append_tokens = prompt;
    t[0].output_tokens = out;
    uint64_t ctx = (uint64_t)prompt + out;
    uint32_t k;
    for (k = 1; k < n; k++) {
        uint64_t think = seconds_to_ns(lognorm_draw(&d->think, rng));
        uint32_t app = tokens_draw(&d->append, rng), o = tokens_draw(&d->output, rng);
        if (ctx + app + o > cap)
            break;
        memset(&t[k], 0, sizeof t[k]);
        t[k].append_tokens = app;
        t[k].output_tokens = o;
        t[k].think_ns = think;
        ctx += (uint64_t)app + o;
    }
    return k;
}

/* Session start times in seconds, ascending. */
static int start_times(const struct dp_synth_params *p, gsl_rng *rng, double **out,
                       size_t *n_out)
{
    size_t n = 0, cap = 0;
    double *s = NULL;
    if (p->rate > 0) {
        /* Poisson arrivals: exponential gaps of mean 1/rate. */
        double t = gsl_ran_exponential(rng, 1.0 / p->rate);
        while (t < p->duration_s) {
            if (n >= SYNTH_MAX_SESSIONS * 2) {   /* validate() bounds rate x duration */
                free(s);
                return DP_ERANGE;
            }
            double *g = dp_grow(s, &cap, n + 1, sizeof *g, 1024);
            if (!g) {
                free(s);
                return DP_ENOMEM;
            }
            s = g;
            s[n++] = t;
            t += gsl_ran_exponential(rng, 1.0 / p->rate);
        }
    } else {
        n = p->agents;
        s = malloc(n * sizeof *s);
        if (!s)
            return DP_ENOMEM;
        for (size_t i = 0; i < n; i++)
            s[i] = p->start_spread_s > 0 ? gsl_rng_uniform(rng) * p->start_spread_s : 0;
        if (p->start_spread_s > 0)
            gsl_sort(s, 1, n);   /* ids follow start order */
    }
    *out = s;
    *n_out = n;
    return 0;
}

int dp_synth_generate(const struct dp_synth_params *p, gsl_rng *rng, struct dp_workload *w,
                      struct dp_err *err)
{
    /* w comes initialized (dp_workload_init) with the scenario's block size,
     * which the caller chose; keep it, drop any earlier sessions. */
    uint32_t block_tokens = w->block_tokens ? w->block_tokens : DP_TRACE_BLOCK_TOKENS;
    dp_workload_free(w);
    w->block_tokens = block_tokens;
    dp_tr_set_source(w, "synthetic");
    int rc = validate(p, err);
    if (rc)
        return rc;
    if (!rng)
        return dp_err_set(err, DP_EINVAL, PARAM "seed: no random number generator given");

    struct draws d = {
        lognorm_make(p->prompt_tokens_mean, p->prompt_tokens_cv),
        lognorm_make(p->append_tokens_mean, p->append_tokens_cv),
        lognorm_make(p->output_tokens_mean, p->output_tokens_cv),
        lognorm_make(p->think_s_mean, p->think_s_cv),
    };
    double *starts = NULL;
    size_t n = 0;
    if ((rc = start_times(p, rng, &starts, &n)))
        return dp_err_set(err, rc, rc == DP_ERANGE ? PARAM "rate: too many sessions"
                                                   : PARAM "agents: out of memory");
    struct dp_turn *turns = malloc((size_t)p->turns_max * sizeof *turns);
    if (!turns) {
        free(starts);
        return dp_err_set(err, DP_ENOMEM, PARAM "turns_max: out of memory");
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        uint32_t k = session_draw(p, &d, rng, turns);
        struct dp_session *s = dp_workload_add(w, seconds_to_ns(starts[i]), 0, turns, k);
        if (!s)
            rc = dp_err_set(err, DP_ENOMEM, "synthetic workload: out of memory at session %zu",
                            i);
        else
            s->id = i;
    }
    free(turns);
    free(starts);
    if (rc)
        dp_workload_free(w);
    return rc;
}
