/* Shared by the libFuzzer targets: the loaders take file paths, so each
 * input is written to one file in a per-process scratch folder under
 * /tmp (removed at exit) and the loader reads it back. */
#ifndef DP_FUZZ_COMMON_H
#define DP_FUZZ_COMMON_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/scenario.h"
#include "sim/run.h"

static char fz_dir[64];

static void fz_cleanup(void)
{
    char cmd[128];
    if (!fz_dir[0])
        return;
    /* only what this process made: the folder and the files named below */
    static const char *const names[] = { "input.yaml", "input.jsonl", "round.jsonl",
                                         "round.jsonl.tmp", NULL };
    for (const char *const *n = names; *n; n++) {
        snprintf(cmd, sizeof cmd, "%s/%s", fz_dir, *n);
        unlink(cmd);
    }
    rmdir(fz_dir);
}

/* Path of a file NAME in the scratch folder (created on first use). */
static const char *fz_path(const char *name)
{
    static char path[128];
    if (!fz_dir[0]) {
        snprintf(fz_dir, sizeof fz_dir, "/tmp/dp_fuzz.%ld", (long)getpid());
        if (mkdir(fz_dir, 0700) && access(fz_dir, W_OK)) {
            perror(fz_dir);
            abort();
        }
        atexit(fz_cleanup);
    }
    snprintf(path, sizeof path, "%s/%s", fz_dir, name);
    return path;
}

/* Write the input to NAME; returns its path. */
static const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
    const char *p = fz_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        perror(p);
        abort();
    }
    return p;
}

/* An error message must be a terminated string of bounded length. */
static void fz_check_msg(const char *msg, size_t cap)
{
    if (!memchr(msg, 0, cap))
        abort();
}

static volatile sig_atomic_t fz_sim_stop;

static void fz_on_vtalrm(int sig)
{
    fz_sim_stop = sig;
}

/* Simulate workload w on scenario sc with the invariant checker on
 * (sim/invariants.h), for at most 100 ms of CPU: a SIGVTALRM timer raises
 * the interrupt flag the event loop polls at every event, so an input that
 * makes no progress ends interrupted, not hung. A violated invariant, like
 * a sanitizer report, is a crash (abort). */
static void fz_simulate(const struct dp_scenario *sc, const struct dp_workload *w)
{
    static int armed;
    if (!armed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = fz_on_vtalrm;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGVTALRM, &sa, NULL);
        armed = 1;
    }
    setenv("DUALPATH_CHECK", "1", 1);
    fz_sim_stop = 0;
    struct itimerval it = { { 0, 0 }, { 0, 100000 } };
    setitimer(ITIMER_VIRTUAL, &it, NULL);
    struct dp_sim_opts o = { .label = "fuzz", .interrupt = &fz_sim_stop };
    struct dp_sim_result res;
    struct dp_err err = { "" };
    int rc = dp_sim_run(sc, w, &o, &res, &err);
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    fz_check_msg(err.msg, sizeof err.msg);
    /* dp_inv_error's message starts so; nothing else's does (an input can
     * put these words in a message, but not at its start) */
    if (rc == DP_ESTATE && !strncmp(err.msg, "invariant violated:", 19)) {
        fprintf(stderr, "fuzz: %s\n", err.msg);
        abort();
    }
    if (!rc || rc == DP_EINTR) {
        struct dp_run_info info;
        dp_sim_result_info(&res, sc, "fuzz", &info);
        dp_sim_result_free(&res);
    }
}

/* The scenario the trace targets replay their input on: 1 PE + 1 DE. */
#ifndef DP_FUZZ_SCENARIO
#define DP_FUZZ_SCENARIO DP_TEST_DATA "/small.yaml"
#endif

/* Replay (up to 4 sessions of) a loaded trace on DP_FUZZ_SCENARIO. */
static void fz_replay(struct dp_workload *w)
{
    static struct dp_scenario sc;
    static int loaded;
    struct dp_err err = { "" };
    if (!loaded) {
        if (dp_scenario_load(&sc, DP_FUZZ_SCENARIO, &err)) {
            fprintf(stderr, "fuzz: %s\n", err.msg);
            abort();
        }
        loaded = 1;
    }
    size_t n = w->n_sessions;
    if (w->n_sessions > 4)
        w->n_sessions = 4;
    fz_simulate(&sc, w);
    w->n_sessions = n;
}

#endif
