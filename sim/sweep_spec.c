/* Parsing the sweep: section and resolving its points (see sweep_spec.h). */
#include "sim/sweep_spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"

#define KEY_ENGINES "cluster.engines"
#define KEY_RATIO "cluster.pd_ratio"

/* What the parser needs at hand: where we are, and the scenario the values
 * are checked against. */
struct ctx {
    struct dp_sweep_spec *sp;
    const struct dp_scenario *sc;
    yaml_document_t *doc;
    struct dp_err *err;
};

static unsigned long line_of(const yaml_node_t *n)
{
    return (unsigned long)n->start_mark.line + 1;
}

static const char *scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int bad(struct ctx *x, const yaml_node_t *n, const char *key, const char *fmt, const char *a)
{
    char what[400];
    snprintf(what, sizeof what, fmt, a);
    return dp_err_set(x->err, DP_EINVAL, "%s:%lu: key '%s': %s", x->sp->file, line_of(n), key, what);
}

static int is_planning_key(const char *k)
{
    return !strcmp(k, KEY_ENGINES) || !strcmp(k, KEY_RATIO);
}

static int parse_ratio(const char *v, double *p, double *d)
{
    char *end;
    errno = 0;
    *p = strtod(v, &end);
    if (end == v || *end != ':' || errno)
        return -1;
    const char *s = end + 1;
    *d = strtod(s, &end);
    if (end == s || *end || errno || !(*p > 0) || !(*d > 0) || !isfinite(*p) || !isfinite(*d))
        return -1;
    return 0;
}

/* Check one value of a planning key. */
static int check_planning(struct ctx *x, const yaml_node_t *n, const char *key, const char *v)
{
    double p, d;
    if (!strcmp(key, KEY_RATIO))
        return parse_ratio(v, &p, &d) ? bad(x, n, key, "'%s' is not a ratio P:D of two positive numbers, e.g. 1:3", v) : 0;
    char *end;
    errno = 0;
    unsigned long e = strtoul(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || e < 2 || e > (1u << 20))
        return bad(x, n, key, "'%s' is not a number of engines >= 2 (prefill + decode)", v);
    return 0;
}

/* Check a value by setting it on a copy of the scenario: the same rules and
 * messages as the scenario file itself. */
static int check_value(struct ctx *x, const yaml_node_t *n, const char *key, const char *v)
{
    if (is_planning_key(key))
        return check_planning(x, n, key, v);
    static struct dp_scenario tmp;   /* large; the parser is not re-entered */
    tmp = *x->sc;
    char at[600];
    snprintf(at, sizeof at, "%s:%lu", x->sp->file, line_of(n));
    int rc = dp_scenario_set(&tmp, key, v, at, x->err);
    if (rc && strncmp(x->err->msg, at, strlen(at))) {
        /* model/hardware loaders do not know the line: add it */
        char msg[sizeof x->err->msg];
        memcpy(msg, x->err->msg, sizeof msg);
        dp_err_set(x->err, rc, "%s: key '%s': %.400s", at, key, msg);
    }
    return rc;
}

static int add_value(struct dp_sweep_key *k, const char *v, struct ctx *x)
{
    char **nv = realloc(k->values, (k->n + 1) * sizeof *nv);
    if (!nv || !(nv[k->n] = strdup(v))) {
        if (nv)
            k->values = nv;
        return dp_err_set(x->err, DP_ENOMEM, "out of memory");
    }
    k->values = nv;
    k->n++;
    return 0;
}

static int num_field(struct ctx *x, const yaml_node_t *n, const char *key, const char *name,
                     double *out)
{
    const char *s = scalar(n);
    char *end;
    char full[200];
    snprintf(full, sizeof full, "%s.%s", key, name);
    if (!s)
        return bad(x, n, full, "expected a number%s", "");
    errno = 0;
    *out = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(*out))
        return bad(x, n, full, "expected a number, got '%s'", s);
    return 0;
}

/* {from: A, to: B, step: S} or {from: A, to: B, factor: F}, both ends included. */
static int parse_range(struct ctx *x, yaml_node_t *n, struct dp_sweep_key *k)
{
    double from = NAN, to = NAN, step = NAN, factor = NAN;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *kn = yaml_document_get_node(x->doc, pr->key);
        yaml_node_t *vn = yaml_document_get_node(x->doc, pr->value);
        const char *name = scalar(kn);
        double *dst = !name ? NULL : !strcmp(name, "from") ? &from : !strcmp(name, "to") ? &to
                    : !strcmp(name, "step") ? &step : !strcmp(name, "factor") ? &factor : NULL;
        if (!dst)
            return bad(x, kn, k->name, "unknown range key '%s' (a range is {from, to, step} or {from, to, factor})",
                       name ? name : "?");
        if (num_field(x, vn, k->name, name, dst))
            return DP_EINVAL;
    }
    if (isnan(from) || isnan(to))
        return bad(x, n, k->name, "a range needs from: and to:%s", "");
    if (isnan(step) == isnan(factor))
        return bad(x, n, k->name, "a range needs one of step: (arithmetic) or factor: (geometric)%s", "");
    if (to < from)
        return bad(x, n, k->name, "a range needs from <= to%s", "");
    if (!isnan(step) && !(step > 0))
        return bad(x, n, k->name, "step must be > 0%s", "");
    if (!isnan(factor) && (!(factor > 1) || !(from > 0)))
        return bad(x, n, k->name, "a geometric range needs factor > 1 and from > 0%s", "");
    for (uint32_t i = 0;; i++) {
        /* computed from the index, not accumulated, so the last value is exact */
        double v = !isnan(step) ? from + i * step : from * pow(factor, i);
        if (v > to * (1 + 1e-9) + 1e-12)
            break;
        if (i >= DP_SWEEP_MAX_CONFIGS)
            return bad(x, n, k->name, "a range of more than %s values", "100000");
        char buf[64];
        snprintf(buf, sizeof buf, "%.10g", v);
        if (check_value(x, n, k->name, buf) || add_value(k, buf, x))
            return DP_EINVAL;
    }
    return 0;
}

static int parse_values(struct ctx *x, yaml_node_t *n, struct dp_sweep_key *k)
{
    if (n->type == YAML_MAPPING_NODE)
        return parse_range(x, n, k);
    if (n->type == YAML_SCALAR_NODE)
        return check_value(x, n, k->name, scalar(n)) || add_value(k, scalar(n), x) ? DP_EINVAL : 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = yaml_document_get_node(x->doc, *it);
        if (v->type != YAML_SCALAR_NODE)
            return bad(x, v, k->name, "a list of values must hold single values, not %s",
                       v->type == YAML_MAPPING_NODE ? "mappings" : "lists");
        if (check_value(x, v, k->name, scalar(v)) || add_value(k, scalar(v), x))
            return DP_EINVAL;
    }
    if (!k->n)
        return bad(x, n, k->name, "an empty list: give at least one value%s", "");
    return 0;
}

static int new_key(struct ctx *x, yaml_node_t *kn, struct dp_sweep_key **out)
{
    struct dp_sweep_spec *sp = x->sp;
    const char *name = scalar(kn);
    if (!name)
        return dp_err_set(x->err, DP_EINVAL, "%s:%lu: a key must be a plain word", sp->file, line_of(kn));
    for (uint32_t i = 0; i < sp->n_keys; i++)
        if (!strcmp(sp->keys[i].name, name))
            return dp_err_set(x->err, DP_EINVAL, "%s:%lu: key '%s': varied twice (first at line %u)",
                              sp->file, line_of(kn), name, sp->keys[i].line);
    if (sp->n_keys == DP_SWEEP_MAX_KEYS)
        return bad(x, kn, name, "at most %s keys can be varied", "16");
    if (strlen(name) >= sizeof sp->keys[0].name)
        return bad(x, kn, name, "key too long%s", "");
    struct dp_sweep_key *k = &sp->keys[sp->n_keys++];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    k->line = (uint32_t)line_of(kn);
    k->axis = sp->n_axes;
    *out = k;
    return 0;
}

static int add_axis(struct ctx *x, yaml_node_t *n, const char *what, uint32_t len)
{
    struct dp_sweep_spec *sp = x->sp;
    sp->axis_len[sp->n_axes++] = len;
    sp->n_configs = sp->n_configs ? sp->n_configs * len : len;
    if (sp->n_configs > DP_SWEEP_MAX_CONFIGS)
        return bad(x, n, what, "the grid grows past %s configurations; narrow it", "100000");
    return 0;
}

static int expect_mapping(struct ctx *x, yaml_node_t *n, const char *key)
{
    return n->type == YAML_MAPPING_NODE ? 0 : bad(x, n, key, "expected a mapping of keys%s", "");
}

/* vary: every key is an axis of the grid. */
static int parse_vary(struct ctx *x, yaml_node_t *n)
{
    if (expect_mapping(x, n, "sweep.vary"))
        return DP_EINVAL;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        struct dp_sweep_key *k;
        yaml_node_t *kn = yaml_document_get_node(x->doc, pr->key);
        if (new_key(x, kn, &k) || parse_values(x, yaml_document_get_node(x->doc, pr->value), k) ||
            add_axis(x, kn, k->name, k->n))
            return DP_EINVAL;
    }
    return 0;
}

/* together: lists of one length, one axis. */
static int parse_together(struct ctx *x, yaml_node_t *n)
{
    if (expect_mapping(x, n, "sweep.together"))
        return DP_EINVAL;
    uint32_t len = 0;
    const char *first = NULL;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        struct dp_sweep_key *k;
        yaml_node_t *kn = yaml_document_get_node(x->doc, pr->key);
        if (new_key(x, kn, &k) || parse_values(x, yaml_document_get_node(x->doc, pr->value), k))
            return DP_EINVAL;
        if (first && k->n != len) {
            char what[300];
            snprintf(what, sizeof what, "%u values, but '%s' has %u: keys varied together need lists of one length",
                     k->n, first, len);
            return bad(x, kn, k->name, "%s", what);
        }
        first = first ? first : k->name;
        len = k->n;
    }
    if (!first)
        return bad(x, n, "sweep.together", "empty: name the keys that change together%s", "");
    return add_axis(x, n, "sweep.together", len);
}

static const char *const goal_names[] = { "grid", "max_rate", "min_gpus", NULL };

static int goal_kind(struct ctx *x, yaml_node_t *v, const char *key)
{
    const char *s = scalar(v);
    for (int i = 0; s && goal_names[i]; i++)
        if (!strcmp(s, goal_names[i])) {
            x->sp->goal.kind = (enum dp_goal_kind)i;
            return 0;
        }
    return bad(x, v, key, "'%s' is not one of: grid, max_rate, min_gpus", s ? s : "(not a word)");
}

static int goal_pair(struct ctx *x, yaml_node_t *kn, yaml_node_t *v, uint32_t *set_lines)
{
    struct dp_sweep_goal *g = &x->sp->goal;
    static const char *const names[] = { "kind", "slo_attainment", "rate_key", "rate_lo",
                                         "rate_hi", "tolerance", NULL };
    const char *name = scalar(kn);
    int i = 0;
    while (name && names[i] && strcmp(names[i], name))
        i++;
    char key[200];
    snprintf(key, sizeof key, "sweep.goal.%s", name ? name : "?");
    if (!name || !names[i])
        return bad(x, kn, key, "unknown key (a goal has kind, slo_attainment, rate_key, rate_lo, rate_hi, tolerance)%s", "");
    set_lines[i] = (uint32_t)line_of(kn);
    if (i == 0)
        return goal_kind(x, v, key);
    if (i == 2) {
        if (!scalar(v) || strlen(scalar(v)) >= sizeof g->rate_key)
            return bad(x, v, key, "expected a scenario key such as workload.synthetic.rate%s", "");
        snprintf(g->rate_key, sizeof g->rate_key, "%s", scalar(v));
        return 0;
    }
    double *dst[] = { NULL, &g->slo_attainment, NULL, &g->rate_lo, &g->rate_hi, &g->tolerance };
    if (num_field(x, v, "sweep.goal", name, dst[i]))
        return DP_EINVAL;
    return 0;
}

/* Cross-checks of the goal once every key is read. */
static int check_goal(struct ctx *x, yaml_node_t *n, const uint32_t *set_lines)
{
    struct dp_sweep_goal *g = &x->sp->goal;
    const char *f = x->sp->file;
    if (!(g->slo_attainment > 0 && g->slo_attainment <= 1))
        return dp_err_set(x->err, DP_ERANGE, "%s:%u: key 'sweep.goal.slo_attainment': must be in (0, 1], got %g",
                          f, set_lines[1], g->slo_attainment);
    if (g->kind != DP_GOAL_MAX_RATE) {
        for (int i = 2; i <= 5; i++)
            if (set_lines[i])
                return dp_err_set(x->err, DP_EINVAL, "%s:%u: key 'sweep.goal': rate_key, rate_lo, rate_hi and tolerance belong to kind max_rate",
                                  f, set_lines[i]);
        return 0;
    }
    if (!(g->rate_lo > 0) || !(g->rate_hi > g->rate_lo))
        return dp_err_set(x->err, DP_ERANGE, "%s:%u: key 'sweep.goal.rate_lo': need 0 < rate_lo < rate_hi, got %g and %g",
                          f, set_lines[3] ? set_lines[3] : (unsigned)line_of(n), g->rate_lo, g->rate_hi);
    if (!(g->tolerance > 0 && g->tolerance < 1))
        return dp_err_set(x->err, DP_ERANGE, "%s:%u: key 'sweep.goal.tolerance': must be in (0, 1) (relative), got %g",
                          f, set_lines[5] ? set_lines[5] : (unsigned)line_of(n), g->tolerance);
    for (uint32_t i = 0; i < x->sp->n_keys; i++)
        if (!strcmp(x->sp->keys[i].name, g->rate_key))
            return dp_err_set(x->err, DP_EINVAL, "%s:%u: key '%s': it is the goal's rate_key (searched), so it cannot also be varied",
                              f, x->sp->keys[i].line, g->rate_key);
    const struct dp_cfg_field *fd = dp_cfg_find(dp_scenario_schema(), g->rate_key);
    g->rate_integer = fd && (fd->type == DP_CFG_U32 || fd->type == DP_CFG_U64);
    if (fd && fd->type != DP_CFG_F64 && !g->rate_integer)
        return dp_err_set(x->err, DP_EINVAL, "%s:%u: key 'sweep.goal.rate_key': '%s' is not a number",
                          f, set_lines[2], g->rate_key);
    char lo[64];
    snprintf(lo, sizeof lo, "%.10g", g->rate_integer ? ceil(g->rate_lo) : g->rate_lo);
    yaml_node_t at = *n;
    if (set_lines[2])
        at.start_mark.line = set_lines[2] - 1;
    return check_value(x, &at, g->rate_key, lo);
}

static int parse_goal(struct ctx *x, yaml_node_t *n)
{
    if (expect_mapping(x, n, "sweep.goal"))
        return DP_EINVAL;
    uint32_t set_lines[6] = { 0 };
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++)
        if (goal_pair(x, yaml_document_get_node(x->doc, pr->key),
                      yaml_document_get_node(x->doc, pr->value), set_lines))
            return DP_EINVAL;
    return check_goal(x, n, set_lines);
}

static int parse_sweep(struct ctx *x, yaml_node_t *n)
{
    if (expect_mapping(x, n, "sweep"))
        return DP_EINVAL;
    yaml_node_t *goal = NULL;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *kn = yaml_document_get_node(x->doc, pr->key);
        yaml_node_t *vn = yaml_document_get_node(x->doc, pr->value);
        const char *name = scalar(kn);
        int rc;
        if (name && !strcmp(name, "vary"))
            rc = parse_vary(x, vn);
        else if (name && !strcmp(name, "together"))
            rc = parse_together(x, vn);
        else if (name && !strcmp(name, "goal"))
            rc = (goal = vn, 0);   /* after the keys: it checks rate_key against them */
        else {
            char key[200];
            snprintf(key, sizeof key, "sweep.%s", name ? name : "?");
            rc = bad(x, kn, key, "unknown key (sweep: has vary, together and goal)%s", "");
        }
        if (rc)
            return rc;
    }
    if (goal && parse_goal(x, goal))
        return DP_EINVAL;
    if (!goal && check_goal(x, n, (uint32_t[6]){ 0 }))
        return DP_EINVAL;
    if (!x->sp->n_keys && x->sp->goal.kind != DP_GOAL_MAX_RATE)
        return dp_err_set(x->err, DP_EINVAL, "%s:%u: key 'sweep': nothing to vary: add vary: {KEY: [VALUES]} (any scenario key)",
                          x->sp->file, x->sp->line);
    if (!x->sp->n_configs)
        x->sp->n_configs = 1;   /* max_rate of the scenario as it is */
    return 0;
}

static void goal_defaults(struct dp_sweep_goal *g)
{
    memset(g, 0, sizeof *g);
    g->kind = DP_GOAL_GRID;
    g->slo_attainment = 0.99;
    snprintf(g->rate_key, sizeof g->rate_key, "workload.synthetic.rate");
    g->rate_lo = 0.5;
    g->rate_hi = 64;
    g->tolerance = 0.05;
}

/* The sweep: value node; *line is the line of the key itself. */
static yaml_node_t *find_sweep(yaml_document_t *doc, uint32_t *line)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(doc, pr->key);
        if (scalar(k) && !strcmp(scalar(k), "sweep")) {
            *line = (uint32_t)line_of(k);
            return yaml_document_get_node(doc, pr->value);
        }
    }
    return NULL;
}

int dp_sweep_spec_load(struct dp_sweep_spec *sp, const struct dp_scenario *sc, struct dp_err *err)
{
    memset(sp, 0, sizeof *sp);
    snprintf(sp->file, sizeof sp->file, "%s", sc->file);
    goal_defaults(&sp->goal);
    FILE *fp = fopen(sc->file, "rb");
    if (!fp)
        return dp_err_set(err, DP_ENOENT, "%s: cannot open: %s", sc->file, strerror(errno));
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, fp);
    int rc;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = dp_err_set(err, DP_EINVAL, "%s:%lu: YAML syntax error: %s", sc->file,
                        (unsigned long)parser.problem_mark.line + 1, parser.problem ? parser.problem : "unknown");
    } else {
        yaml_node_t *n = find_sweep(&doc, &sp->line);
        struct ctx x = { sp, sc, &doc, err };
        if (!n)
            rc = dp_err_set(err, DP_EINVAL, "%s: no sweep: section; add one, e.g.\n  sweep:\n    vary:\n      cluster.decode_engines: [1, 2, 4]\n    goal: {kind: min_gpus}\n(see scenarios/planning/)", sc->file);
        else
            rc = parse_sweep(&x, n);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(fp);
    if (rc)
        dp_sweep_spec_free(sp);
    return rc;
}

void dp_sweep_spec_free(struct dp_sweep_spec *sp)
{
    for (uint32_t i = 0; i < sp->n_keys; i++) {
        for (uint32_t j = 0; j < sp->keys[i].n; j++)
            free(sp->keys[i].values[j]);
        free(sp->keys[i].values);
        sp->keys[i].values = NULL;
        sp->keys[i].n = 0;
    }
    sp->n_keys = 0;
}

uint32_t dp_sweep_value_index(const struct dp_sweep_spec *sp, uint64_t c, uint32_t k)
{
    uint32_t a = sp->keys[k].axis;
    uint64_t stride = 1;
    for (uint32_t b = a + 1; b < sp->n_axes; b++)
        stride *= sp->axis_len[b];
    return (uint32_t)((c / stride) % sp->axis_len[a]);
}

static int append(char *buf, size_t len, size_t *used, const char *k, const char *v,
                  struct dp_err *err)
{
    int n = snprintf(buf + *used, len - *used, "%s=%s\n", k, v);
    if (n < 0 || (size_t)n >= len - *used)
        return dp_err_set(err, DP_ERANGE, "sweep: a point's values are longer than %zu characters", len);
    *used += (size_t)n;
    return 0;
}

/* The planning keys become prefill/decode engine counts: the total and the
 * P:D ratio each default to what the configuration has without them. */
static int apply_sets(struct dp_scenario *sc, const char *text, struct dp_err *err);

static int planning_text(const struct dp_sweep_spec *sp, const struct dp_scenario *base,
                         uint64_t c, const char *text, char *buf, size_t len, size_t *used,
                         struct dp_err *err)
{
    const char *eng = NULL, *ratio = NULL;
    for (uint32_t k = 0; k < sp->n_keys; k++) {
        const char *v = sp->keys[k].values[dp_sweep_value_index(sp, c, k)];
        if (!strcmp(sp->keys[k].name, KEY_ENGINES))
            eng = v;
        else if (!strcmp(sp->keys[k].name, KEY_RATIO))
            ratio = v;
    }
    if (!eng && !ratio)
        return 0;
    static struct dp_scenario tmp;
    tmp = *base;
    int rc = apply_sets(&tmp, text, err);
    if (rc)
        return rc;
    double total = eng ? strtod(eng, NULL) : tmp.cluster.prefill_engines + tmp.cluster.decode_engines;
    double p = tmp.cluster.prefill_engines, d = tmp.cluster.decode_engines;
    if (ratio)
        parse_ratio(ratio, &p, &d);
    if (total < 2)
        return dp_err_set(err, DP_EINVAL, "%s: sweep: %s=%s needs at least 2 engines", sp->file,
                          KEY_RATIO, ratio);
    double pe = floor(total * p / (p + d) + 0.5);
    pe = pe < 1 ? 1 : pe > total - 1 ? total - 1 : pe;
    char a[32], b[32];
    snprintf(a, sizeof a, "%.0f", pe);
    snprintf(b, sizeof b, "%.0f", total - pe);
    return append(buf, len, used, "cluster.prefill_engines", a, err) ||
           append(buf, len, used, "cluster.decode_engines", b, err) ? DP_ERANGE : 0;
}

int dp_sweep_point_text(const struct dp_sweep_spec *sp, const struct dp_scenario *base,
                        uint64_t c, const char *rate_text, char *buf, size_t len,
                        struct dp_err *err)
{
    size_t used = 0;
    buf[0] = 0;
    for (uint32_t k = 0; k < sp->n_keys; k++) {
        if (is_planning_key(sp->keys[k].name))
            continue;
        const char *v = sp->keys[k].values[dp_sweep_value_index(sp, c, k)];
        if (append(buf, len, &used, sp->keys[k].name, v, err))
            return DP_ERANGE;
    }
    int rc = planning_text(sp, base, c, buf, buf, len, &used, err);
    if (!rc && rate_text)
        rc = append(buf, len, &used, sp->goal.rate_key, rate_text, err);
    return rc;
}

/* Set every "key=value" line, without the cross-field checks. */
static int apply_sets(struct dp_scenario *sc, const char *text, struct dp_err *err)
{
    const char *p = text;
    while (*p) {
        const char *eq = strchr(p, '='), *nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        if (!eq || eq > nl)
            return dp_err_set(err, DP_EINVAL, "sweep point: '%.*s' is not KEY=VALUE", (int)(nl - p), p);
        char key[256], val[1024];
        snprintf(key, sizeof key, "%.*s", (int)(eq - p), p);
        snprintf(val, sizeof val, "%.*s", (int)(nl - eq - 1), eq + 1);
        int rc = dp_scenario_set(sc, key, val, "sweep point", err);
        if (rc)
            return rc;
        p = *nl ? nl + 1 : nl;
    }
    return 0;
}

int dp_sweep_apply(struct dp_scenario *sc, const char *text, struct dp_err *err)
{
    int rc = apply_sets(sc, text, err);
    return rc ? rc : dp_scenario_validate(sc, err);
}

static uint64_t fnv(uint64_t h, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The running program's bytes: a journal written by another build of the
 * simulator (whose results may differ) is never taken for this one's. */
static uint64_t program_fingerprint(void)
{
    static uint64_t fp;
    if (fp)
        return fp;
    fp = fnv(1469598103934665603ull, (const unsigned char *)DP_VERSION, strlen(DP_VERSION));
    FILE *f = fopen("/proc/self/exe", "rb");
    if (f) {
        unsigned char buf[1 << 16];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            fp = fnv(fp, buf, n);
        fclose(f);
    }
    return fp ? fp : 1;
}

uint64_t dp_sweep_hash(const struct dp_scenario *sc)
{
    static char text[1 << 16];
    if (dp_scenario_dump(sc, text, sizeof text))
        text[sizeof text - 1] = 0;
    uint64_t fp = program_fingerprint();
    return fnv(fnv(1469598103934665603ull, (const unsigned char *)&fp, sizeof fp),
               (const unsigned char *)text, strlen(text));
}

uint32_t dp_sweep_gpus(const struct dp_scenario *sc)
{
    return sc->cluster.prefill_engines * sc->cluster.prefill_gpus +
           sc->cluster.decode_engines * sc->cluster.decode_gpus;
}

const char *dp_sweep_key_units(const char *key)
{
    /* by whole key first, then by how the key ends (the scenario's naming) */
    static const struct {
        const char *end, *units;
    } rules[] = {
        { "workload.synthetic.rate", "agents/s" },
        { "workload.synthetic.agents", "agents" },
        { "cluster.pd_ratio", "prefill engines per decode engine" },
        { "cluster.engines", "engines" },
        { "_engines", "engines" },
        { "_gpus", "GPUs per engine" },
        { "_bw", "bytes/s" },
        { "_bytes", "bytes" },
        { "tokens_mean", "tokens" },
        { "_tokens", "tokens" },
        { "max_context", "tokens" },
        { "_ms", "ms" },
        { "_s_mean", "s" },
        { "_s", "s" },
        { "_cv", "ratio" },
        { "turns_mean", "turns" },
        { "turns_max", "turns" },
        { ".name", "name" },
        { "seed", "-" },
    };
    size_t n = strlen(key);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        size_t m = strlen(rules[i].end);
        if (n >= m && !strcmp(key + n - m, rules[i].end))
            return rules[i].units;
    }
    return "see dualpath keys";
}

void dp_sweep_config_label(const struct dp_sweep_spec *sp, uint64_t c, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (uint32_t k = 0; k < sp->n_keys && used < len; k++) {
        int n = snprintf(buf + used, len - used, "%s%s=%s", k ? " " : "", sp->keys[k].name,
                         sp->keys[k].values[dp_sweep_value_index(sp, c, k)]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!sp->n_keys)
        snprintf(buf, len, "(the scenario as written)");
}
