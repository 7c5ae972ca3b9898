/* The HDF5 results file. Layout (scripts/plot_timeseries.py reads it; so can
 * h5py and pandas). Every dataset carries "units" and "description"
 * attributes, every column of a compound dataset "COLUMN.units" and
 * "COLUMN.description", every /summary figure "NAME.units" and
 * "NAME.description": the file explains itself.
 *   /            attributes: description, dualpath_version, platform, scenario_name, policy,
 *                workload, seed (uint64), complete (int: 1, or 0 for an interrupted run),
 *                scenario (resolved keys)
 *   /requests    compound dataset, one row per finished request (struct dp_req_rec)
 *   /timeseries/time             [samples] seconds
 *   /timeseries/<series>         [samples][engines] (names in dp_series_names)
 *   /engines/role                [engines] 0 = prefill, 1 = decode (attribute "meaning")
 *   /engines/snic_bw, cnic_bw    [engines] bytes/s
 *   /engines/<link>_bytes        [engines] cumulative bytes
 *   /summary     attributes: every figure of dp_summary_fields (counts as integers),
 *                simulated_s
 * Object modification times are not recorded, so the same run writes the
 * same bytes. */
#include "core/report.h"
#include "core/h5util.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define ENGINE_COLUMNS "one column per engine: prefill engines (PEs) first, then decode " \
                       "engines (DEs); /engines/role tells them apart"

/* The columns of /requests: name, type, units, meaning. */
enum rec_kind { U64, U32, I32, F64 };
static const struct rec_col {
    const char *name;
    size_t off;
    enum rec_kind kind;
    const char *units, *description;
} rec_cols[] = {
#define C(n, t, u, d) { #n, HOFFSET(struct dp_req_rec, n), t, u, d }
    C(id, U64, "-", "request id, unique in the run"),
    C(session, U64, "-", "session id, from the workload"),
    C(turn, U32, "-", "turn of the session, from 0"),
    C(pe, I32, "-", "prefill engine: an index into /engines (PEs first, then DEs)"),
    C(de, I32, "-", "decode engine: an index into /engines"),
    C(input_tokens, U32, "tokens", "prompt: the context so far plus this turn's new tokens"),
    C(cached_tokens, U32, "tokens", "input tokens whose KV-Cache was loaded from storage"),
    C(de_cached_tokens, U32, "tokens",
      "of cached_tokens, those loaded over the decode engine's read path (DualPath)"),
    C(new_tokens, U32, "tokens", "input tokens computed by prefill"),
    C(output_tokens, U32, "tokens", "tokens generated"),
    C(failed, U32, "0 or 1", "1: the request failed (a read or transfer failed beyond retry)"),
    C(session_end, U32, "0 or 1", "1: its session's last request (the session ended with it)"),
    C(t_issue, F64, "s", "issued (simulated time from the start of the run)"),
    C(t_ready, F64, "s", "its KV-Cache in the prefill engine's buffer: ready to prefill"),
    C(t_prefill, F64, "s", "its prefill batch started"),
    C(t_first, F64, "s", "first token out (prefill done)"),
    C(t_decode, F64, "s", "joined its decode engine's running batch"),
    C(t_done, F64, "s", "last token out"),
    C(ttft, F64, "s", "time to first token: t_first - t_issue"),
    C(tpot, F64, "s", "time per output token after the first: (t_done - t_first) / (output_tokens - 1)"),
#undef C
};
#define N_REC_COLS (sizeof rec_cols / sizeof rec_cols[0])

/* The time series: units and meaning, in dp_series_names order. */
static const char *const series_units[DP_S_N][2] = {
    { "fraction (0-1)", "storage NIC read utilisation: bytes read over bandwidth x interval" },
    { "fraction (0-1)", "storage NIC write utilisation (KV written back)" },
    { "fraction (0-1)", "compute NIC utilisation, in" },
    { "fraction (0-1)", "compute NIC utilisation, out" },
    { "fraction (0-1)", "PCIe host-to-device utilisation" },
    { "bytes", "storage reads queued at the engine" },
    { "tokens (PE) or requests (DE)", "prefill engines: new tokens waiting to be computed; decode engines: requests running" },
    { "bytes", "KV-Cache held in HBM" },
    { "bytes", "KV-Cache held in the host DRAM buffer" },
};

static hid_t rec_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct dp_req_rec));
    for (size_t i = 0; i < N_REC_COLS; i++) {
        enum rec_kind k = rec_cols[i].kind;
        H5Tinsert(t, rec_cols[i].name, rec_cols[i].off,
                  k == U64 ? H5T_NATIVE_UINT64 : k == U32 ? H5T_NATIVE_UINT32
                  : k == I32 ? H5T_NATIVE_INT32 : H5T_NATIVE_DOUBLE);
    }
    return t;
}

static int write_requests(hid_t f, const struct dp_run_info *in)
{
    hid_t rt = rec_type();
    hsize_t d[1] = { in->m->n_recs };
    int rc = dp_h5_dataset(f, "requests", rt, 1, d, in->m->recs);
    H5Tclose(rt);
    rc = rc || dp_h5_describe(f, "requests", NULL, NULL,
                              "one row per finished request, in finishing order");
    for (size_t i = 0; !rc && i < N_REC_COLS; i++)
        rc = dp_h5_describe(f, "requests", rec_cols[i].name, rec_cols[i].units, rec_cols[i].description);
    return rc;
}

static int write_root(hid_t f, const struct dp_run_info *in)
{
    static char text[1 << 16];
    int rc = 0;
    rc |= dp_h5_attr_str(f, "description",
                         "DualPath results of one run: per-request records, time series of every "
                         "engine, the summary; each object has units and description attributes");
    rc |= dp_h5_attr_str(f, "dualpath_version", DP_VERSION);
    rc |= dp_h5_attr_str(f, "platform", in->platform);
    rc |= dp_h5_attr_str(f, "scenario_name", in->sc->name);
    rc |= dp_h5_attr_str(f, "policy", in->sc->policy.name);
    rc |= dp_h5_attr_str(f, "workload", in->workload_source);
    rc |= dp_h5_attr_u64(f, "seed", in->sc->seed);
    rc |= dp_h5_attr_int(f, "complete", in->m->complete);
    if (dp_scenario_dump(in->sc, text, sizeof text) == 0)
        rc |= dp_h5_attr_str(f, "scenario", text);
    return rc;
}

static int write_series(hid_t f, const struct dp_run_info *in)
{
    const struct dp_metrics *m = in->m;
    hid_t g = dp_h5_group(f, "timeseries");
    if (g < 0)
        return 1;
    hsize_t d1[1] = { m->n_samples }, d2[2] = { m->n_samples, m->n_engines };
    int rc = dp_h5_dataset(g, "time", H5T_NATIVE_DOUBLE, 1, d1, m->t) ||
             dp_h5_describe(g, "time", NULL, "s", "sample times (simulated); each sample covers the interval since the previous one");
    for (int k = 0; k < DP_S_N && !rc; k++)
        rc = dp_h5_dataset(g, dp_series_names[k], H5T_NATIVE_DOUBLE, 2, d2, m->series[k]) ||
             dp_h5_describe(g, dp_series_names[k], NULL, series_units[k][0], series_units[k][1]) ||
             dp_h5_note(g, dp_series_names[k], "columns", ENGINE_COLUMNS);
    rc = rc || dp_h5_describe(g, ".", NULL, NULL, "per-engine time series, one row per sample (rows match time)");
    H5Gclose(g);
    return rc;
}

static int write_engines(hid_t f, const struct dp_run_info *in)
{
    uint32_t n = in->m->n_engines;
    hid_t g = dp_h5_group(f, "engines");
    if (g < 0)
        return 1;
    int32_t *role = malloc(n * sizeof *role);
    double *snic = malloc(n * sizeof *snic), *cnic = malloc(n * sizeof *cnic);
    int rc = !role || !snic || !cnic;
    for (uint32_t e = 0; !rc && e < n; e++) {
        role[e] = in->caps[e].role;
        snic[e] = in->caps[e].snic_bw;
        cnic[e] = in->caps[e].cnic_bw;
    }
    hsize_t d[1] = { n };
    if (!rc)
        rc = dp_h5_dataset(g, "role", H5T_NATIVE_INT32, 1, d, role) ||
             dp_h5_describe(g, "role", NULL, "-", "what each engine is") ||
             dp_h5_note(g, "role", "meaning", "0 = prefill engine (PE), 1 = decode engine (DE)") ||
             dp_h5_dataset(g, "snic_bw", H5T_NATIVE_DOUBLE, 1, d, snic) ||
             dp_h5_describe(g, "snic_bw", NULL, "bytes/s", "storage NIC bandwidth of the engine") ||
             dp_h5_dataset(g, "cnic_bw", H5T_NATIVE_DOUBLE, 1, d, cnic) ||
             dp_h5_describe(g, "cnic_bw", NULL, "bytes/s", "compute NIC bandwidth of the engine");
    static const char *const names[][2] = {
        { "snic_rx_bytes", "bytes the storage NIC read" },  { "snic_tx_bytes", "bytes the storage NIC wrote" },
        { "cnic_rx_bytes", "bytes the compute NIC took in" }, { "cnic_tx_bytes", "bytes the compute NIC sent" },
        { "pcie_h2d_bytes", "bytes over PCIe, host to device" },
    };
    for (int k = 0; k <= DP_S_PCIE_H2D && !rc; k++)
        rc = dp_h5_dataset(g, names[k][0], H5T_NATIVE_DOUBLE, 1, d, in->m->bytes[k]) ||
             dp_h5_describe(g, names[k][0], NULL, "bytes", names[k][1]);
    rc = rc || dp_h5_describe(g, ".", NULL, NULL, "one entry per engine: prefill engines first, then decode engines");
    free(role);
    free(snic);
    free(cnic);
    H5Gclose(g);
    return rc;
}

static int write_summary(hid_t f, const struct dp_run_info *in)
{
    hid_t g = dp_h5_group(f, "summary");
    if (g < 0)
        return 1;
    int rc = dp_h5_attr_str(g, "description", "the run's figures, as the summary on stdout; each NAME has NAME.units and NAME.description");
    for (size_t i = 0; i < dp_summary_n_fields; i++) {
        const struct dp_summary_field *sf = &dp_summary_fields[i];
        double v = dp_summary_get(&in->summary, i);
        rc |= sf->integer ? dp_h5_attr_u64(g, sf->name, (unsigned long long)v) : dp_h5_attr_num(g, sf->name, v);
        rc |= dp_h5_describe(g, ".", sf->name, sf->units, sf->description);
    }
    rc |= dp_h5_attr_num(g, "simulated_s", in->m->end_s) |
          dp_h5_describe(g, ".", "simulated_s", "s", "the last simulated instant (the core's last sample)");
    H5Gclose(g);
    return rc;
}

int dp_h5_write(const char *path, const struct dp_run_info *in, struct dp_err *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* we report errors ourselves */
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    if (f < 0)
        return dp_err_set(err, DP_EIO, "%s: cannot create the results file (is the folder there and writable?)", path);
    int rc = write_root(f, in) || write_requests(f, in);
    rc = rc || write_series(f, in) || write_engines(f, in) || write_summary(f, in);
    if (H5Fclose(f) < 0)
        rc = 1;
    if (rc) {
        unlink(tmp);
        return dp_err_set(err, DP_EIO, "%s: writing the results failed (disk full?)", path);
    }
    /* the bytes reach the disk before the name does: a power cut never
     * leaves an empty file under the final name */
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd)) {
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return dp_err_set(err, DP_EIO, "%s: cannot flush the results to disk", path);
    }
    close(fd);
    if (rename(tmp, path)) {
        unlink(tmp);
        return dp_err_set(err, DP_EIO, "%s: cannot rename the finished results into place", path);
    }
    return 0;
}
