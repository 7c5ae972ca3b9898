/* The sweep's journal and results table (see sweep_store.h). */
#include "sim/sweep_store.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/h5util.h"

/* The summary figures a point keeps, in journal and table order, are
 * dp_summary_fields (core/metrics.h). */
#define N_SUM DP_SUMMARY_N_FIELDS

/* ---- journal ----------------------------------------------------------- */

#define JOURNAL_HEAD "# dualpath sweep journal 1: point hash, status, summary figures, error, values\n"

/* One journal line: "P HASH STATUS FIGURES... ERROR LABEL", tab-separated. */
static int parse_line(char *line, uint64_t *hash, struct dp_sweep_res *r)
{
    char *f[N_SUM + 6];
    size_t n = 0;
    for (char *s = line; n < N_SUM + 6; n++) {
        f[n] = s;
        char *t = strchr(s, '\t');
        if (!t) {
            n++;
            break;
        }
        *t = 0;
        s = t + 1;
    }
    if (n != N_SUM + 5 || strcmp(f[0], "P"))
        return -1;
    char *end;
    memset(r, 0, sizeof *r);
    *hash = strtoull(f[1], &end, 16);
    if (*end || strlen(f[1]) != 16)
        return -1;
    r->status = (int32_t)strtol(f[2], &end, 10);
    if (*end)
        return -1;
    for (size_t i = 0; i < N_SUM; i++) {
        char *p = (char *)&r->s + dp_summary_fields[i].off;
        if (dp_summary_fields[i].integer)
            *(uint64_t *)p = strtoull(f[3 + i], &end, 10);
        else
            *(double *)p = strtod(f[3 + i], &end);
        if (*end || !*f[3 + i])
            return -1;
    }
    snprintf(r->err, sizeof r->err, "%s", f[3 + N_SUM]);
    return 0;
}

static int journal_read(struct dp_journal *j, dp_journal_fn fn, void *ctx, struct dp_err *err)
{
    FILE *fp = fdopen(dup(j->fd), "r");
    if (!fp)
        return dp_err_set(err, DP_EIO, "%s: cannot read: %s", j->path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    unsigned long torn = 0;
    off_t whole = 0;   /* end of the last complete line */
    while (!rc && (len = getline(&line, &cap, fp)) > 0) {
        if (line[len - 1] == '\n')
            whole += len;
        if (line[0] == '#')
            continue;
        uint64_t h;
        struct dp_sweep_res r;
        /* a line without its newline was cut by a kill: the point is redone */
        if (line[len - 1] != '\n' || (line[len - 1] = 0, parse_line(line, &h, &r))) {
            torn++;
            continue;
        }
        rc = fn(ctx, h, &r);
    }
    free(line);
    fclose(fp);
    /* drop a cut-off last line, or the next point would be appended to it */
    struct stat st;
    if (!rc && fstat(j->fd, &st) == 0 && st.st_size > whole && ftruncate(j->fd, whole))
        rc = dp_err_set(err, DP_EIO, "%s: cannot drop its incomplete last line: %s", j->path, strerror(errno));
    if (rc && !err->msg[0])
        dp_err_set(err, rc, "%s: out of memory reading the journal", j->path);
    if (torn)
        fprintf(stderr, "dualpath sweep: %s: skipped %lu incomplete line(s) (a point cut off by a kill is computed again)\n",
                j->path, torn);
    return rc;
}

static int has_points(int fd)
{
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return strstr(buf, "\nP\t") != NULL || !strncmp(buf, "P\t", 2);
}

int dp_journal_open(struct dp_journal *j, const char *prefix, int resume, int restart,
                    dp_journal_fn fn, void *ctx, struct dp_err *err)
{
    snprintf(j->path, sizeof j->path, "%s.journal", prefix);
    j->fd = open(j->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (j->fd < 0)
        return dp_err_set(err, DP_EIO, "%s: cannot open the journal: %s (is the folder there and writable?)",
                          j->path, strerror(errno));
    if (flock(j->fd, LOCK_EX | LOCK_NB)) {
        dp_journal_close(j);
        return dp_err_set(err, DP_ESTATE, "%s: another sweep is writing this journal; wait for it or use another -o PREFIX",
                          prefix);
    }
    int rc = 0;
    if (resume)
        rc = journal_read(j, fn, ctx, err);
    else if (has_points(j->fd) && !restart)
        rc = dp_err_set(err, DP_ESTATE, "%s holds finished points of an earlier sweep: pass --resume to continue it, or --restart to start over",
                        j->path);
    else if (ftruncate(j->fd, 0))
        rc = dp_err_set(err, DP_EIO, "%s: cannot truncate: %s", j->path, strerror(errno));
    struct stat st;
    if (!rc && fstat(j->fd, &st) == 0 && st.st_size == 0 &&
        write(j->fd, JOURNAL_HEAD, strlen(JOURNAL_HEAD)) != (ssize_t)strlen(JOURNAL_HEAD))
        rc = dp_err_set(err, DP_EIO, "%s: cannot write: %s", j->path, strerror(errno));
    if (rc)
        dp_journal_close(j);
    return rc;
}

static void clean(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src);
    for (char *p = dst; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r')
            *p = ' ';
}

int dp_journal_append(struct dp_journal *j, uint64_t hash, const struct dp_sweep_res *r,
                      const char *label, struct dp_err *err)
{
    char line[8192], e[sizeof r->err], lab[2048];
    size_t u = (size_t)snprintf(line, sizeof line, "P\t%016" PRIx64 "\t%d", hash, r->status);
    for (size_t i = 0; i < N_SUM && u < sizeof line; i++) {
        double v = dp_summary_get(&r->s, i);
        u += (size_t)(dp_summary_fields[i].integer ? snprintf(line + u, sizeof line - u, "\t%.0f", v)
                                        : snprintf(line + u, sizeof line - u, "\t%.17g", v));
    }
    clean(e, sizeof e, r->err);
    clean(lab, sizeof lab, label);
    if (u < sizeof line)
        u += (size_t)snprintf(line + u, sizeof line - u, "\t%s\t%s\n", e, lab);
    if (u >= sizeof line)
        return dp_err_set(err, DP_ERANGE, "%s: a journal line is too long", j->path);
    /* one write per line (O_APPEND), then fsync: a kill leaves whole lines */
    if (write(j->fd, line, u) != (ssize_t)u || fsync(j->fd))
        return dp_err_set(err, DP_EIO, "%s: cannot append: %s (disk full?)", j->path, strerror(errno));
    return 0;
}

void dp_journal_close(struct dp_journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
}

/* ---- the table: columns shared by HDF5 and CSV -------------------------- */

enum col_kind { C_U32, C_U8, C_I32, C_F64, C_STR, C_I64, C_U64 };

struct col {
    char name[160];
    enum col_kind k;
    size_t size, off;
    char units[64];
    char desc[200];
};

struct tab {
    struct col cols[N_SUM + DP_SWEEP_MAX_KEYS + 24];
    int n;
    size_t size;
};

static void add_col(struct tab *t, const char *name, enum col_kind k, size_t strsize, const char *units,
                    const char *desc)
{
    static const size_t sizes[] = { 4, 1, 4, 8, 0, 8, 8 };
    struct col *c = &t->cols[t->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->units, sizeof c->units, "%s", units);
    snprintf(c->desc, sizeof c->desc, "%s", desc);
    c->k = k;
    c->size = k == C_STR ? strsize : sizes[k];
    c->off = t->size;
    t->size += c->size;
}

static void put_num(const struct tab *t, char *row, int c, double v)
{
    char *p = row + t->cols[c].off;
    switch (t->cols[c].k) {
    case C_U32: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    case C_U8: { uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
    case C_I32: { int32_t x = (int32_t)v; memcpy(p, &x, 4); break; }
    case C_I64: { int64_t x = (int64_t)v; memcpy(p, &x, 8); break; }
    case C_U64: { uint64_t x = isnan(v) ? 0 : (uint64_t)v; memcpy(p, &x, 8); break; }
    case C_F64: memcpy(p, &v, 8); break;
    default: break;
    }
}

/* A swept value as the column keeps it: integers as integers, numbers as
 * numbers, anything else as text. */
static void put_value(const struct tab *t, char *row, int c, const char *v)
{
    char *p = row + t->cols[c].off;
    if (t->cols[c].k == C_I64) {
        int64_t x = strtoll(v, NULL, 10);
        memcpy(p, &x, 8);
    } else if (t->cols[c].k == C_F64) {
        double x = strtod(v, NULL);
        memcpy(p, &x, 8);
    } else {
        strncpy(p, v, t->cols[c].size - 1);
    }
}

/* The column type of a swept key: C_I64 when every value is an integer,
 * C_F64 when every value is a number, else text of the longest value. */
static enum col_kind value_kind(const struct dp_sweep_key *key, size_t *strsize)
{
    int ints = 1, nums = 1;
    *strsize = 2;
    for (uint32_t i = 0; i < key->n; i++) {
        const char *v = key->values[i];
        char *end;
        errno = 0;
        strtoll(v, &end, 10);
        ints &= *v && !*end && !errno;
        strtod(v, &end);
        nums &= *v && !*end;
        if (strlen(v) + 1 > *strsize)
            *strsize = strlen(v) + 1;
    }
    return ints ? C_I64 : nums ? C_F64 : C_STR;
}

/* Columns naming a configuration: its index, size and varied values. */
static void config_cols(struct tab *t, const struct dp_sweep_spec *sp)
{
    add_col(t, "config", C_U32, 0, "-", "configuration: an index into /configs");
    add_col(t, "gpus", C_U32, 0, "GPUs", "GPUs of the configuration (all engines)");
    add_col(t, "prefill_engines", C_U32, 0, "engines", "prefill engines");
    add_col(t, "decode_engines", C_U32, 0, "engines", "decode engines");
    for (uint32_t k = 0; k < sp->n_keys; k++) {
        size_t w;
        char desc[200];
        snprintf(desc, sizeof desc, "swept value of the scenario key %s", sp->keys[k].name);
        enum col_kind kind = value_kind(&sp->keys[k], &w);
        add_col(t, sp->keys[k].name, kind, w, dp_sweep_key_units(sp->keys[k].name), desc);
    }
}

/* Fill the configuration columns; returns the next column. */
static int put_config(const struct tab *t, char *row, const struct dp_sweep_spec *sp, uint64_t cfg,
                      uint32_t gpus, uint32_t pe, uint32_t de, int c)
{
    put_num(t, row, c++, (double)cfg);
    put_num(t, row, c++, gpus);
    put_num(t, row, c++, pe);
    put_num(t, row, c++, de);
    for (uint32_t k = 0; k < sp->n_keys; k++)
        put_value(t, row, c++, sp->keys[k].values[dp_sweep_value_index(sp, cfg, k)]);
    return c;
}

static void sum_cols(struct tab *t)
{
    for (size_t i = 0; i < N_SUM; i++)
        add_col(t, dp_summary_fields[i].name, dp_summary_fields[i].integer ? C_U64 : C_F64, 0,
                dp_summary_fields[i].units, dp_summary_fields[i].description);
}

static int put_sum(const struct tab *t, char *row, const struct dp_sweep_res *r, int c)
{
    for (size_t i = 0; i < N_SUM; i++)
        put_num(t, row, c++, r ? dp_summary_get(&r->s, i) : NAN);
    return c;
}

static void points_tab(struct tab *t, const struct dp_sweep_table *in)
{
    const struct dp_sweep_spec *sp = in->sp;
    add_col(t, "point", C_U32, 0, "-", "row number");
    config_cols(t, sp);
    add_col(t, "probe", C_U32, 0, "-", "the probe's number within its configuration, from 0");
    if (sp->goal.kind == DP_GOAL_MAX_RATE)
        add_col(t, sp->goal.rate_key, C_F64, 0, dp_sweep_key_units(sp->goal.rate_key),
                "the rate probed (the goal's rate_key)");
    add_col(t, "meets_slo", C_U8, 0, "0 or 1", "1: SLO attainment at or above the goal's slo_attainment");
    add_col(t, "status", C_I32, 0, "-", "0: simulated; 1: the simulation failed (counts as missing the SLO)");
    sum_cols(t);
}

static void points_row(const struct tab *t, char *row, const struct dp_sweep_table *in, size_t i)
{
    const struct dp_sweep_row *r = &in->rows[i];
    int c = 0;
    put_num(t, row, c++, (double)i);
    c = put_config(t, row, in->sp, r->cfg, r->gpus, r->pe, r->de, c);
    put_num(t, row, c++, r->seq);
    if (in->sp->goal.kind == DP_GOAL_MAX_RATE)
        put_num(t, row, c++, r->rate);
    put_num(t, row, c++, r->meets);
    put_num(t, row, c++, r->res->status);
    put_sum(t, row, r->res, c);
}

static void configs_tab(struct tab *t, const struct dp_sweep_table *in)
{
    const char *ru = in->sp->goal.kind == DP_GOAL_MAX_RATE ? dp_sweep_key_units(in->sp->goal.rate_key) : "-";
    config_cols(t, in->sp);
    add_col(t, "evaluated", C_U8, 0, "0 or 1", "1: at least one point of it was simulated");
    add_col(t, "meets_slo", C_U8, 0, "0 or 1", "1: within SLO (max_rate: at rate_lo or above)");
    add_col(t, "capacity", C_F64, 0, ru,
            "max_rate: the largest rate_key value within SLO; 0: not even rate_lo (below it); "
            "NaN: the search did not finish");
    add_col(t, "capped", C_U8, 0, "0 or 1", "1: rate_hi itself was within SLO (the capacity is at least that)");
    add_col(t, "probes", C_U32, 0, "-", "points simulated for it");
    sum_cols(t);
}

static void configs_row(const struct tab *t, char *row, const struct dp_sweep_table *in, size_t i)
{
    const struct dp_sweep_cfgrow *r = &in->cfgs[i];
    int c = put_config(t, row, in->sp, r->cfg, r->gpus, r->pe, r->de, 0);
    put_num(t, row, c++, r->evaluated);
    put_num(t, row, c++, r->meets);
    put_num(t, row, c++, r->capacity);
    put_num(t, row, c++, r->capped);
    put_num(t, row, c++, r->probes);
    put_sum(t, row, r->res, c);
}

typedef void (*row_fn)(const struct tab *t, char *row, const struct dp_sweep_table *in, size_t i);

static char *fill(const struct tab *t, const struct dp_sweep_table *in, size_t n, row_fn fn)
{
    char *buf = calloc(n ? n : 1, t->size);
    for (size_t i = 0; buf && i < n; i++)
        fn(t, buf + i * t->size, in, i);
    return buf;
}

/* ---- HDF5 --------------------------------------------------------------- */

static hid_t h5_type(const struct tab *t)
{
    hid_t ty = H5Tcreate(H5T_COMPOUND, t->size);
    for (int i = 0; i < t->n; i++) {
        const struct col *c = &t->cols[i];
        hid_t m = c->k == C_U32 ? H5Tcopy(H5T_NATIVE_UINT32) : c->k == C_U8 ? H5Tcopy(H5T_NATIVE_UINT8)
                : c->k == C_I32 ? H5Tcopy(H5T_NATIVE_INT32) : c->k == C_F64 ? H5Tcopy(H5T_NATIVE_DOUBLE)
                : c->k == C_I64 ? H5Tcopy(H5T_NATIVE_INT64) : c->k == C_U64 ? H5Tcopy(H5T_NATIVE_UINT64)
                : H5Tcopy(H5T_C_S1);
        if (c->k == C_STR)
            H5Tset_size(m, c->size);
        H5Tinsert(ty, c->name, c->off, m);
        H5Tclose(m);
    }
    return ty;
}

static int h5_table(hid_t f, const char *name, const struct tab *t, const char *data, size_t n,
                    const char *desc)
{
    hid_t ty = h5_type(t);
    hsize_t d[1] = { n };
    int rc = dp_h5_dataset(f, name, ty, 1, d, data) || dp_h5_describe(f, name, NULL, NULL, desc);
    H5Tclose(ty);
    for (int i = 0; !rc && i < t->n; i++)
        rc = dp_h5_describe(f, name, t->cols[i].name, t->cols[i].units, t->cols[i].desc);
    return rc;
}

static int h5_attrs(hid_t f, const struct dp_sweep_table *in)
{
    static const char *const kinds[] = { "grid", "max_rate", "min_gpus" };
    const struct dp_sweep_goal *g = &in->sp->goal;
    char varied[DP_SWEEP_MAX_KEYS * 130] = "";
    for (uint32_t k = 0; k < in->sp->n_keys; k++) {
        strncat(varied, in->sp->keys[k].name, sizeof varied - strlen(varied) - 1);
        strncat(varied, "\n", sizeof varied - strlen(varied) - 1);
    }
    return dp_h5_attr_str(f, "dualpath_version", DP_VERSION) |
           dp_h5_attr_str(f, "scenario_name", in->scenario_name) |
           dp_h5_attr_str(f, "goal", kinds[g->kind]) |
           dp_h5_attr_num(f, "slo_attainment", g->slo_attainment) |
           dp_h5_attr_str(f, "rate_key", g->kind == DP_GOAL_MAX_RATE ? g->rate_key : "") |
           dp_h5_attr_num(f, "rate_lo", g->rate_lo) | dp_h5_attr_num(f, "rate_hi", g->rate_hi) |
           dp_h5_attr_num(f, "tolerance", g->tolerance) | dp_h5_attr_str(f, "varied", varied) |
           dp_h5_attr_str(f, "answer", in->answer ? in->answer : "") |
           dp_h5_attr_int(f, "complete", in->complete);
}

static int write_h5(const char *path, const struct dp_sweep_table *in, const struct tab *tp,
                    const char *pts, const struct tab *tc, const char *cfgs)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return -1;
    int rc = h5_attrs(f, in) ||
             h5_table(f, "points", tp, pts, in->n_rows,
                      "one row per simulated point, in (configuration, probe) order") ||
             h5_table(f, "configs", tc, cfgs, in->n_cfgs,
                      "one row per configuration: its answer and the figures of its representative "
                      "point (its only point; max_rate: the one at its capacity)");
    if (H5Fclose(f) < 0)
        rc = 1;
    if (rc || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- CSV ---------------------------------------------------------------- */

static void csv_str(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static void csv_cell(FILE *fp, const struct col *c, const char *row)
{
    const char *p = row + c->off;
    uint32_t u;
    int32_t i;
    int64_t l;
    uint64_t ul;
    double d;
    switch (c->k) {
    case C_I64: memcpy(&l, p, 8); fprintf(fp, "%" PRId64, l); break;
    case C_U64: memcpy(&ul, p, 8); fprintf(fp, "%" PRIu64, ul); break;
    case C_U32: memcpy(&u, p, 4); fprintf(fp, "%u", u); break;
    case C_U8: fprintf(fp, "%u", (unsigned)*(const uint8_t *)p); break;
    case C_I32: memcpy(&i, p, 4); fprintf(fp, "%d", i); break;
    case C_F64: memcpy(&d, p, 8); if (!isnan(d)) fprintf(fp, "%.10g", d); break;
    case C_STR: csv_str(fp, p); break;
    }
}

static int write_csv(const char *path, const struct tab *t, const char *data, size_t n)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return -1;
    for (int c = 0; c < t->n; c++) {
        if (c)
            fputc(',', fp);
        csv_str(fp, t->cols[c].name);
    }
    fputc('\n', fp);
    for (size_t r = 0; r < n; r++) {
        for (int c = 0; c < t->n; c++) {
            if (c)
                fputc(',', fp);
            csv_cell(fp, &t->cols[c], data + r * t->size);
        }
        fputc('\n', fp);
    }
    int rc = ferror(fp) | fclose(fp);
    if (rc || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int dp_sweep_write(const char *prefix, const struct dp_sweep_table *in, struct dp_err *err)
{
    struct tab tp = { .n = 0 }, tc = { .n = 0 };
    points_tab(&tp, in);
    configs_tab(&tc, in);
    char *pts = fill(&tp, in, in->n_rows, points_row);
    char *cfgs = fill(&tc, in, in->n_cfgs, configs_row);
    char h5[700], csv[700];
    snprintf(h5, sizeof h5, "%s.h5", prefix);
    snprintf(csv, sizeof csv, "%s.csv", prefix);
    int rc = 0;
    if (!pts || !cfgs)
        rc = dp_err_set(err, DP_ENOMEM, "out of memory");
    else if (write_h5(h5, in, &tp, pts, &tc, cfgs))
        rc = dp_err_set(err, DP_EIO, "%s: cannot write the results table (is the folder there and writable?)", h5);
    else if (write_csv(csv, &tp, pts, in->n_rows))
        rc = dp_err_set(err, DP_EIO, "%s: cannot write the results table (disk full?)", csv);
    free(pts);
    free(cfgs);
    return rc;
}
