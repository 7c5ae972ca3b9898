#include "core/config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct dp_cfg_field *dp_cfg_find(const struct dp_cfg_schema *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->fields[i].path, path) == 0)
            return &s->fields[i];
    return NULL;
}

/* Edit distance, for "did you mean" on a misspelt key. */
static size_t lev(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), prev[128], cur[128];
    if (la >= 127 || lb >= 127)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

const char *dp_cfg_suggest(const struct dp_cfg_schema *s, const char *path)
{
    const char *best = NULL;
    size_t bestd = 4;   /* only close matches are worth suggesting */
    for (size_t i = 0; i < s->n; i++) {
        size_t d = lev(path, s->fields[i].path);
        if (d < bestd) {
            bestd = d;
            best = s->fields[i].path;
        }
    }
    return best;
}

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    if (!*v || *v == '-' || *v == '+')
        return -1;
    errno = 0;
    double d;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end == '.' || *end == 'e' || *end == 'E') {
        /* 1e6 style integers are common in YAML written by people */
        d = strtod(v, &end);
        if (*end || d < 0 || d != floor(d) || d > 1.8e19)
            return -1;
        *out = (uint64_t)d;
        return 0;
    }
    if (*end || errno)
        return -1;
    *out = x;
    return 0;
}

/* name: the field as the user wrote it (section.key), for messages. */
static int check_range(const struct dp_cfg_field *f, const char *name, double x, const char *where,
                       struct dp_err *err)
{
    if (f->min_exclusive ? !(x > f->min) : !(x >= f->min))
        return dp_err_set(err, DP_ERANGE, "%s: field '%s': must be %s %g, got %g%s%s%s",
                          where, name, f->min_exclusive ? ">" : ">=", f->min, x,
                          f->help ? " (" : "", f->help ? f->help : "", f->help ? ")" : "");
    if (f->max > f->min && x > f->max)
        return dp_err_set(err, DP_ERANGE, "%s: field '%s': must be <= %g, got %g", where,
                          name, f->max, x);
    return 0;
}

static int set_scalar(const struct dp_cfg_field *f, const char *name, void *obj, const char *v,
                      const char *where, struct dp_err *err)
{
    char *p = (char *)obj + f->offset;
    uint64_t u;
    double d;
    char *end;

    switch (f->type) {
    case DP_CFG_U32:
    case DP_CFG_U64:
        if (parse_u64(v, &u) || (f->type == DP_CFG_U32 && u > UINT32_MAX))
            return dp_err_set(err, DP_EINVAL,
                              "%s: field '%s': expected a non-negative integer, got '%s'",
                              where, name, v);
        if (check_range(f, name, (double)u, where, err))
            return DP_ERANGE;
        if (f->type == DP_CFG_U32)
            *(uint32_t *)p = (uint32_t)u;
        else
            *(uint64_t *)p = u;
        return 0;
    case DP_CFG_F64:
        errno = 0;
        d = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(d))
            return dp_err_set(err, DP_EINVAL, "%s: field '%s': expected a number, got '%s'",
                              where, name, v);
        if (check_range(f, name, d, where, err))
            return DP_ERANGE;
        *(double *)p = d;
        return 0;
    case DP_CFG_BOOL:
        if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
            *(int *)p = 1;
        else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
            *(int *)p = 0;
        else
            return dp_err_set(err, DP_EINVAL, "%s: field '%s': expected true or false, got '%s'",
                              where, name, v);
        return 0;
    case DP_CFG_STR:
        if (strlen(v) >= f->size)
            return dp_err_set(err, DP_EINVAL, "%s: field '%s': longer than %zu characters",
                              where, name, f->size - 1);
        memcpy(p, v, strlen(v) + 1);
        return 0;
    case DP_CFG_ENUM:
        for (uint32_t i = 0; f->names[i]; i++)
            if (!strcasecmp(v, f->names[i])) {
                *(uint32_t *)p = i;
                return 0;
            }
        {
            char list[256] = "";
            for (uint32_t i = 0; f->names[i]; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, f->names[i], sizeof list - strlen(list) - 1);
            }
            return dp_err_set(err, DP_EINVAL, "%s: field '%s': '%s' is not one of: %s", where,
                              name, v, list);
        }
    default:
        return dp_err_set(err, DP_EINVAL, "%s: field '%s': cannot be set from a string", where,
                          name);
    }
}

static int bind_node(const struct dp_cfg_schema *s, void *obj, const char *file,
                     yaml_document_t *doc, yaml_node_t *node, const char *path,
                     struct dp_err *err);

int dp_cfg_bind_mapping(const struct dp_cfg_schema *s, void *obj, const char *file,
                        yaml_document_t *doc, yaml_node_t *node, const char *prefix,
                        struct dp_err *err)
{
    if (node->type != YAML_MAPPING_NODE)
        return dp_err_set(err, DP_EINVAL, "%s:%lu: %s%s%sexpected a mapping of keys", file,
                          (unsigned long)node->start_mark.line + 1, *prefix ? "field '" : "",
                          prefix, *prefix ? "': " : "");
    for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
         pr < node->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(doc, pr->value);
        unsigned long line = k->start_mark.line + 1;
        if (k->type != YAML_SCALAR_NODE)
            return dp_err_set(err, DP_EINVAL, "%s:%lu: a key must be a plain word", file, line);
        /* Duplicate keys would silently let the later one win. */
        for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < pr; q++) {
            yaml_node_t *k2 = yaml_document_get_node(doc, q->key);
            if (k2->type == YAML_SCALAR_NODE && !strcmp((char *)k2->data.scalar.value,
                                                        (char *)k->data.scalar.value))
                return dp_err_set(err, DP_EINVAL, "%s:%lu: key '%s' appears twice (first at line %lu)",
                                  file, line, (char *)k->data.scalar.value,
                                  (unsigned long)k2->start_mark.line + 1);
        }
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
                 (char *)k->data.scalar.value);
        int rc = bind_node(s, obj, file, doc, v, path, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int bind_node(const struct dp_cfg_schema *s, void *obj, const char *file,
                     yaml_document_t *doc, yaml_node_t *node, const char *path,
                     struct dp_err *err)
{
    const struct dp_cfg_field *f = dp_cfg_find(s, path);
    unsigned long line = node->start_mark.line + 1;
    char where[300];

    if (!f) {
        const char *hint = dp_cfg_suggest(s, path);
        return dp_err_set(err, DP_EINVAL, "%s:%lu: unknown key '%s'%s%s%s", file, line, path,
                          hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    }
    if (f->type == DP_CFG_CUSTOM)
        return f->custom(obj, f, file, doc, node, err);
    if (f->type == DP_CFG_SECTION)
        return dp_cfg_bind_mapping(s, obj, file, doc, node, path, err);
    if (node->type != YAML_SCALAR_NODE)
        return dp_err_set(err, DP_EINVAL, "%s:%lu: field '%s': expected a single value, got a %s",
                          file, line, path,
                          node->type == YAML_MAPPING_NODE ? "mapping" : "list");
    snprintf(where, sizeof where, "%s:%lu", file, line);
    return set_scalar(f, path, obj, (char *)node->data.scalar.value, where, err);
}

int dp_cfg_load_file(const struct dp_cfg_schema *s, void *obj, const char *file,
                     struct dp_err *err)
{
    FILE *fp = fopen(file, "rb");
    if (!fp)
        return dp_err_set(err, DP_ENOENT, "%s: cannot open: %s", file, strerror(errno));

    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = 0;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, fp);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = dp_err_set(err, DP_EINVAL, "%s:%lu: YAML syntax error: %s%s%s", file,
                        (unsigned long)parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "unknown",
                        parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        fclose(fp);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = dp_err_set(err, DP_EINVAL, "%s:1: the file is empty", file);
    else
        rc = dp_cfg_bind_mapping(s, obj, file, &doc, root, "", err);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(fp);
    return rc;
}

int dp_cfg_set_in(const struct dp_cfg_schema *s, void *obj, const char *section, const char *path,
                  const char *value, const char *origin, struct dp_err *err)
{
    char name[300];
    const char *dot = section ? "." : "";
    snprintf(name, sizeof name, "%s%s%s", section ? section : "", dot, path);
    const struct dp_cfg_field *f = dp_cfg_find(s, path);
    if (!f || f->type == DP_CFG_SECTION || f->type == DP_CFG_CUSTOM) {
        const char *hint = f ? NULL : dp_cfg_suggest(s, path);
        return dp_err_set(err, DP_EINVAL, "%s: unknown key '%s'%s%s%s%s%s", origin, name,
                          hint ? " (did you mean '" : "", hint && section ? section : "",
                          hint ? dot : "", hint ? hint : "", hint ? "'?)" : "");
    }
    return set_scalar(f, name, obj, value, origin, err);
}

int dp_cfg_set(const struct dp_cfg_schema *s, void *obj, const char *path, const char *value,
               const char *origin, struct dp_err *err)
{
    return dp_cfg_set_in(s, obj, NULL, path, value, origin, err);
}

int dp_cfg_get(const struct dp_cfg_schema *s, const void *obj, const char *path, char *buf,
               size_t len)
{
    const struct dp_cfg_field *f = dp_cfg_find(s, path);
    if (!f)
        return DP_ENOENT;
    const char *p = (const char *)obj + f->offset;
    switch (f->type) {
    case DP_CFG_U32: snprintf(buf, len, "%u", *(const uint32_t *)p); break;
    case DP_CFG_U64: snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case DP_CFG_F64: snprintf(buf, len, "%.17g", *(const double *)p); break;
    case DP_CFG_BOOL: snprintf(buf, len, "%s", *(const int *)p ? "true" : "false"); break;
    case DP_CFG_STR: snprintf(buf, len, "%s", p); break;
    case DP_CFG_ENUM: snprintf(buf, len, "%s", f->names[*(const uint32_t *)p]); break;
    default: return DP_EINVAL;
    }
    return 0;
}

int dp_cfg_dump(const struct dp_cfg_schema *s, const void *obj, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->n; i++) {
        char v[300];
        if (dp_cfg_get(s, obj, s->fields[i].path, v, sizeof v))
            continue;
        int k = snprintf(buf + used, len - used, "%s: %s\n", s->fields[i].path, v);
        if (k < 0 || (size_t)k >= len - used)
            return DP_ERANGE;
        used += (size_t)k;
    }
    return 0;
}
