/* The HDF5 results file. Layout (scripts/plot_timeseries.py reads it; so can
 * h5py and pandas):
 *   /            attributes: dualpath_version, platform, scenario_name, policy, seed,
 *                complete (1, or 0 for an interrupted run), scenario (resolved keys)
 *   /requests    compound dataset, one row per finished request (struct dp_req_rec)
 *   /timeseries/time             [samples] seconds
 *   /timeseries/<series>         [samples][engines] (names in dp_series_names)
 *   /engines/role                [engines] 0 = prefill, 1 = decode
 *   /engines/snic_bw, cnic_bw    [engines] bytes/s
 *   /engines/<link>_bytes        [engines] cumulative bytes
 *   /summary     attributes: every field of struct dp_summary
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

static hid_t rec_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct dp_req_rec));
#define F(name, ht) H5Tinsert(t, #name, HOFFSET(struct dp_req_rec, name), ht)
    F(id, H5T_NATIVE_UINT64); F(session, H5T_NATIVE_UINT64); F(turn, H5T_NATIVE_UINT32);
    F(pe, H5T_NATIVE_INT32); F(de, H5T_NATIVE_INT32);
    F(input_tokens, H5T_NATIVE_UINT32); F(cached_tokens, H5T_NATIVE_UINT32);
    F(de_cached_tokens, H5T_NATIVE_UINT32); F(new_tokens, H5T_NATIVE_UINT32);
    F(output_tokens, H5T_NATIVE_UINT32); F(failed, H5T_NATIVE_UINT32);
    F(session_end, H5T_NATIVE_UINT32);
    F(t_issue, H5T_NATIVE_DOUBLE); F(t_ready, H5T_NATIVE_DOUBLE); F(t_prefill, H5T_NATIVE_DOUBLE);
    F(t_first, H5T_NATIVE_DOUBLE); F(t_decode, H5T_NATIVE_DOUBLE); F(t_done, H5T_NATIVE_DOUBLE);
    F(ttft, H5T_NATIVE_DOUBLE); F(tpot, H5T_NATIVE_DOUBLE);
#undef F
    return t;
}

static int write_root(hid_t f, const struct dp_run_info *in)
{
    static char text[1 << 16];
    int rc = 0;
    rc |= dp_h5_attr_str(f, "dualpath_version", DP_VERSION);
    rc |= dp_h5_attr_str(f, "platform", in->platform);
    rc |= dp_h5_attr_str(f, "scenario_name", in->sc->name);
    rc |= dp_h5_attr_str(f, "policy", in->sc->policy.name);
    rc |= dp_h5_attr_str(f, "workload", in->workload_source);
    rc |= dp_h5_attr_num(f, "seed", (double)in->sc->seed);
    rc |= dp_h5_attr_num(f, "complete", in->m->complete);
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
    int rc = dp_h5_dataset(g, "time", H5T_NATIVE_DOUBLE, 1, d1, m->t);
    for (int k = 0; k < DP_S_N && !rc; k++)
        rc = dp_h5_dataset(g, dp_series_names[k], H5T_NATIVE_DOUBLE, 2, d2, m->series[k]);
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
             dp_h5_dataset(g, "snic_bw", H5T_NATIVE_DOUBLE, 1, d, snic) ||
             dp_h5_dataset(g, "cnic_bw", H5T_NATIVE_DOUBLE, 1, d, cnic);
    static const char *const names[] = { "snic_rx_bytes", "snic_tx_bytes", "cnic_rx_bytes",
                                         "cnic_tx_bytes", "pcie_h2d_bytes" };
    for (int k = 0; k <= DP_S_PCIE_H2D && !rc; k++)
        rc = dp_h5_dataset(g, names[k], H5T_NATIVE_DOUBLE, 1, d, in->m->bytes[k]);
    free(role);
    free(snic);
    free(cnic);
    H5Gclose(g);
    return rc;
}

static int write_summary(hid_t f, const struct dp_run_info *in)
{
    const struct dp_summary *s = &in->summary;
    hid_t g = dp_h5_group(f, "summary");
    if (g < 0)
        return 1;
    int rc = 0;
#define A(name, v) rc |= dp_h5_attr_num(g, name, v)
    A("requests", (double)s->requests); A("failed", (double)s->failed);
    A("sessions", (double)s->sessions); A("sessions_total", (double)s->sessions_total);
    A("session_time_mean_s", s->jct_mean_s); A("elapsed_s", s->elapsed_s);
    A("makespan_s", s->makespan_s); A("throughput_tok_s", s->throughput_tok_s);
    A("prefill_tok_s", s->prefill_tok_s); A("output_tok_s", s->output_tok_s);
    A("input_tokens", s->input_tokens); A("output_tokens", s->output_tokens);
    A("cached_tokens", s->cached_tokens); A("de_cached_tokens", s->de_cached_tokens);
    A("ttft_p50_s", s->ttft_p[0]); A("ttft_p90_s", s->ttft_p[1]); A("ttft_p99_s", s->ttft_p[2]);
    A("tpot_p50_s", s->tpot_p[0]); A("tpot_p90_s", s->tpot_p[1]); A("tpot_p99_s", s->tpot_p[2]);
    A("ttft_mean_s", s->ttft_mean); A("tpot_mean_s", s->tpot_mean);
    A("slo_attainment", s->slo_attainment);
    A("pe_snic_util", s->pe_snic_util); A("de_snic_util", s->de_snic_util);
    A("pe_cnic_util", s->pe_cnic_util); A("de_cnic_util", s->de_cnic_util);
    A("simulated_s", in->m->end_s);
    A("a2a_stretch_mean", s->a2a_stretch_mean); A("a2a_stretch_max", s->a2a_stretch_max);
#undef A
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
    int rc = write_root(f, in);
    hid_t rt = rec_type();
    hsize_t d[1] = { in->m->n_recs };
    rc = rc || dp_h5_dataset(f, "requests", rt, 1, d, in->m->recs);
    H5Tclose(rt);
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
