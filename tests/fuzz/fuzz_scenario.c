/* libFuzzer target: the scenario loader (core/scenario.c, core/config.c on
 * libyaml), then what `dualpath run` does next with a loaded scenario: the
 * resolved-keys dump stored with the results, validation again, the
 * synthetic workload generator, and a simulation with the invariant checker
 * on (fz_simulate in fuzz_common.h), on a copy bounded to a few tiny
 * sessions and at most 4 + 4 engines so one input stays fast.
 *
 * Model and hardware names resolve in DUALPATH_MODELS or the source tree's
 * models/ (compiled in), so the seeds' "model: ds27b" keep loading; the
 * input file sits in a private folder under /tmp, where relative paths
 * resolve to nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/scenario.h"
#include "fuzz_common.h"
#include "sim/run.h"
#include "traces/trace.h"

static void fz_check_scenario(const struct dp_scenario *sc)
{
    /* strings the loader fills must stay terminated */
    if (!memchr(sc->name, 0, sizeof sc->name) || !memchr(sc->file, 0, sizeof sc->file) ||
        !memchr(sc->dir, 0, sizeof sc->dir) || !memchr(sc->model_ref, 0, sizeof sc->model_ref) ||
        !memchr(sc->hw_ref, 0, sizeof sc->hw_ref) ||
        !memchr(sc->workload.trace, 0, sizeof sc->workload.trace) ||
        !memchr(sc->policy.name, 0, sizeof sc->policy.name))
        abort();
    /* what validation promises the simulator */
    if (sc->cluster.prefill_engines < 1 || sc->cluster.decode_engines < 1 ||
        sc->cluster.prefill_gpus < 1 || sc->cluster.decode_gpus < 1 ||
        sc->workload.block_tokens < 1 || !(sc->run.sample_interval_s > 0))
        abort();
}

static int fuzz_scenario_one(const uint8_t *data, size_t size)
{
    const char *p = fz_write("input.yaml", data, size);
    char path[128];
    snprintf(path, sizeof path, "%s", p);
    struct dp_scenario sc;
    struct dp_err err = { "" };
    int rc = dp_scenario_load(&sc, path, &err);
    fz_check_msg(err.msg, sizeof err.msg);
    if (rc)
        return 0;
    fz_check_scenario(&sc);
    if (dp_scenario_validate(&sc, &err))
        abort();   /* load validated it already */
    static char dump[65536];
    dp_scenario_dump(&sc, dump, sizeof dump);

    if (sc.workload.kind != DP_WL_SYNTHETIC)
        return 0;
    /* A few tiny sessions with the input's distributions. */
    struct dp_scenario small = sc;
    struct dp_synth_params *s = &small.workload.synthetic;
    if (s->agents > 3)
        s->agents = 3;
    if (s->rate > 0 && s->duration_s * s->rate > 3)
        s->duration_s = 3 / s->rate;
    if (s->turns_max > 8)
        s->turns_max = 8;
    if (s->turns_mean > s->turns_max)
        s->turns_mean = s->turns_max;
    if (small.cluster.prefill_engines > 4)
        small.cluster.prefill_engines = 4;
    if (small.cluster.decode_engines > 4)
        small.cluster.decode_engines = 4;
    struct dp_workload w;
    memset(&w, 0, sizeof w);
    rc = dp_workload_build(&small, NULL, &w, &err);
    fz_check_msg(err.msg, sizeof err.msg);
    if (rc == 0) {
        size_t turns = dp_workload_total_turns(&w);
        if (turns > w.n_sessions * 8)
            abort();
        struct dp_trace_stats st;
        dp_trace_stats(&w, &st);
        fz_simulate(&small, &w);
        dp_workload_free(&w);
    }
    return 0;
}

#ifndef DP_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_scenario_one(data, size);
}
#endif
