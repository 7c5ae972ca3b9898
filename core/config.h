/* YAML configuration binding: a schema of typed fields, each named by a
 * dotted path ("cluster.prefill_engines") and stored at an offset of a C
 * struct. The loader walks a YAML file, binds every key it knows and rejects
 * every key it does not, naming file, line and key; the same schema sets a
 * value from a string ("--set cluster.prefill_engines=4", sweeps).
 *
 * Used for scenarios, model files and hardware files alike. */
#ifndef DP_CONFIG_H
#define DP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "base/errors.h"

enum dp_cfg_type {
    DP_CFG_SECTION = 0,  /* a mapping of further keys */
    DP_CFG_U32,
    DP_CFG_U64,
    DP_CFG_F64,
    DP_CFG_BOOL,
    DP_CFG_STR,          /* char[size] */
    DP_CFG_ENUM,         /* uint32_t; names in `names`, NULL-terminated */
    DP_CFG_CUSTOM,       /* a node handed to `custom` (e.g. "model: ds660b" or a mapping) */
};

struct dp_cfg_field;
typedef int (*dp_cfg_custom_fn)(void *obj, const struct dp_cfg_field *f,
                                const char *file, yaml_document_t *doc,
                                yaml_node_t *node, struct dp_err *err);

struct dp_cfg_field {
    const char *path;      /* dotted key path */
    enum dp_cfg_type type;
    size_t offset;
    size_t size;           /* DP_CFG_STR: buffer size */
    double min, max;       /* numeric bounds, inclusive */
    int min_exclusive;     /* 1: value must be > min (bandwidths) */
    const char *const *names;  /* DP_CFG_ENUM */
    dp_cfg_custom_fn custom;
    const char *help;      /* one line: unit and meaning */
};

struct dp_cfg_schema {
    const struct dp_cfg_field *fields;
    size_t n;
};

/* Load FILE into obj under schema. Every key must be known. */
int dp_cfg_load_file(const struct dp_cfg_schema *s, void *obj, const char *file,
                     struct dp_err *err);
/* Bind a mapping node (used by custom handlers for inline sections). `prefix`
 * is the dotted path of the node ("" at the top). */
int dp_cfg_bind_mapping(const struct dp_cfg_schema *s, void *obj, const char *file,
                        yaml_document_t *doc, yaml_node_t *node, const char *prefix,
                        struct dp_err *err);
/* Set one field from a string value; `origin` names where it came from
 * (e.g. "--set") for the error message. */
int dp_cfg_set(const struct dp_cfg_schema *s, void *obj, const char *path,
               const char *value, const char *origin, struct dp_err *err);
/* The same for a field of a section loaded with its own schema (the model
 * or hardware of a scenario): messages name it section.path. */
int dp_cfg_set_in(const struct dp_cfg_schema *s, void *obj, const char *section, const char *path,
                  const char *value, const char *origin, struct dp_err *err);
/* Format a field's value as text (for result files and sweep tables). */
int dp_cfg_get(const struct dp_cfg_schema *s, const void *obj, const char *path,
               char *buf, size_t len);
const struct dp_cfg_field *dp_cfg_find(const struct dp_cfg_schema *s, const char *path);
/* The known key closest to a misspelt one, or NULL when none is close. */
const char *dp_cfg_suggest(const struct dp_cfg_schema *s, const char *path);
/* Write every field as "path: value" lines (a resolved scenario, for records). */
int dp_cfg_dump(const struct dp_cfg_schema *s, const void *obj, char *buf, size_t len);

#endif
