/* Forked worker processes that simulate sweep points (see sweep_pool.h). */
#include "sim/sweep_pool.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/run.h"
#include "sim/sweep_spec.h"

struct req_head {
    uint32_t id, len;
};

struct res_msg {
    uint32_t id, pad;
    struct dp_sweep_res res;
};

/* Points of one sweep mostly share a workload (only cluster or policy
 * values change): keep the last one built. */
static struct {
    int valid;
    uint64_t seed;
    char dir[sizeof ((struct dp_scenario *)0)->dir];
    __typeof__(((struct dp_scenario *)0)->workload) spec;
    struct dp_workload w;
} wl_cache;

static int workload_for(const struct dp_scenario *sc, const struct dp_workload **w,
                        struct dp_err *err)
{
    if (wl_cache.valid && wl_cache.seed == sc->seed && !strcmp(wl_cache.dir, sc->dir) &&
        !memcmp(&wl_cache.spec, &sc->workload, sizeof sc->workload)) {
        *w = &wl_cache.w;
        return 0;
    }
    if (wl_cache.valid)
        dp_workload_free(&wl_cache.w);
    memset(&wl_cache, 0, sizeof wl_cache);
    int rc = dp_workload_build(sc, NULL, &wl_cache.w, err);
    if (rc)
        return rc;
    wl_cache.valid = 1;
    wl_cache.seed = sc->seed;
    memcpy(wl_cache.dir, sc->dir, sizeof wl_cache.dir);
    memcpy(&wl_cache.spec, &sc->workload, sizeof sc->workload);
    *w = &wl_cache.w;
    return 0;
}

void dp_sweep_eval(const struct dp_scenario *base, const char *text, struct dp_sweep_res *res)
{
    static struct dp_scenario sc;
    static volatile sig_atomic_t never;   /* the sweep stops workers by killing them */
    struct dp_err err = { "" };
    const struct dp_workload *w = NULL;
    memset(res, 0, sizeof *res);
    memcpy(&sc, base, sizeof sc);
    int rc = dp_sweep_apply(&sc, text, &err);
    if (!rc)
        rc = workload_for(&sc, &w, &err);
    if (!rc) {
        struct dp_sim_opts o = { .interrupt = &never };
        struct dp_sim_result r;
        rc = dp_sim_run(&sc, w, &o, &r, &err);
        if (!rc) {
            struct dp_run_info info;
            dp_sim_result_info(&r, &sc, "sweep", &info);
            res->s = info.summary;
            res->wall_s = r.wall_s;
        }
        dp_sim_result_free(&r);
    }
    if (rc) {
        res->status = 1;
        snprintf(res->err, sizeof res->err, "%s", err.msg);
    }
}

static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* A worker: read a point, simulate it, write the result; the end of the
 * request pipe (the sweep finished or died) ends it. */
static void worker_main(int in, int out, const struct dp_scenario *base)
{
    signal(SIGINT, SIG_IGN);            /* Ctrl-C is the sweep's to handle */
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* a killed sweep leaves no workers behind */
    char *text = NULL;
    struct req_head h;
    while (read_full(in, &h, sizeof h) == 0) {
        char *t = realloc(text, (size_t)h.len + 1);
        if (!t || read_full(in, t, h.len))
            break;
        text = t;
        text[h.len] = 0;
        struct res_msg m;
        memset(&m, 0, sizeof m);
        m.id = h.id;
        dp_sweep_eval(base, text, &m.res);
        if (write_full(out, &m, sizeof m))
            break;
    }
    _exit(0);   /* no atexit handlers, no flushing the parent's stdio buffers */
}

int dp_pool_start(struct dp_pool *p, int n, const struct dp_scenario *base, struct dp_err *err)
{
    p->n = 0;
    p->w = calloc((size_t)n, sizeof *p->w);
    if (!p->w)
        return dp_err_set(err, DP_ENOMEM, "out of memory");
    fflush(NULL);
    signal(SIGPIPE, SIG_IGN);   /* a dead worker's pipe reports EPIPE, not a kill */
    for (int i = 0; i < n; i++) {
        int a[2], b[2];
        if (pipe(a))
            return dp_err_set(err, DP_EIO, "sweep: pipe: %s", strerror(errno));
        if (pipe(b)) {
            close(a[0]);
            close(a[1]);
            return dp_err_set(err, DP_EIO, "sweep: pipe: %s", strerror(errno));
        }
        pid_t pid = fork();
        if (pid < 0)
            return dp_err_set(err, DP_EIO, "sweep: cannot start worker %d: %s", i, strerror(errno));
        if (pid == 0) {
            /* the other workers' pipes must not stay open here, or they never see EOF */
            for (int k = 0; k < p->n; k++) {
                close(p->w[k].to);
                close(p->w[k].from);
            }
            close(a[1]);
            close(b[0]);
            worker_main(a[0], b[1], base);
        }
        close(a[0]);
        close(b[1]);
        p->w[p->n++] = (struct dp_worker){ pid, a[1], b[0], 0, 0 };
    }
    return 0;
}

int dp_pool_idle(const struct dp_pool *p)
{
    int k = 0;
    for (int i = 0; i < p->n; i++)
        k += !p->w[i].busy;
    return k;
}

int dp_pool_submit(struct dp_pool *p, uint32_t id, const char *text, struct dp_err *err)
{
    for (int i = 0; i < p->n; i++) {
        struct dp_worker *w = &p->w[i];
        if (w->busy)
            continue;
        struct req_head h = { id, (uint32_t)strlen(text) };
        if (write_full(w->to, &h, sizeof h) || write_full(w->to, text, h.len))
            return dp_err_set(err, DP_EIO, "sweep: worker %d (pid %ld) is gone", i, (long)w->pid);
        w->busy = 1;
        w->id = id;
        return 0;
    }
    return dp_err_set(err, DP_ESTATE, "sweep: no idle worker (a bug)");
}

static int died(struct dp_worker *w, struct dp_err *err)
{
    int st = 0;
    waitpid(w->pid, &st, 0);
    w->pid = -1;
    w->busy = 0;
    if (WIFSIGNALED(st))
        return dp_err_set(err, DP_EIO, "sweep: a worker was killed by signal %d (%s) while simulating a point%s",
                          WTERMSIG(st), strsignal(WTERMSIG(st)),
                          WTERMSIG(st) == SIGKILL ? " (out of memory? try a smaller -j)" : "");
    return dp_err_set(err, DP_EIO, "sweep: a worker exited (status %d) while simulating a point",
                      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int dp_pool_wait(struct dp_pool *p, int timeout_ms, uint32_t *id, struct dp_sweep_res *res,
                 struct dp_err *err)
{
    struct pollfd fds[p->n ? p->n : 1];
    int idx[p->n ? p->n : 1], n = 0;
    for (int i = 0; i < p->n; i++)
        if (p->w[i].busy) {
            fds[n] = (struct pollfd){ p->w[i].from, POLLIN, 0 };
            idx[n++] = i;
        }
    int k = poll(fds, (nfds_t)n, timeout_ms);
    if (k <= 0)
        return 0;   /* timeout, or EINTR: the caller looks at its flags */
    for (int j = 0; j < n; j++) {
        if (!fds[j].revents)
            continue;
        struct dp_worker *w = &p->w[idx[j]];
        struct res_msg m;
        if (read_full(w->from, &m, sizeof m))
            return died(w, err);
        w->busy = 0;
        *id = m.id;
        *res = m.res;
        return 1;
    }
    return 0;
}

void dp_pool_stop(struct dp_pool *p)
{
    for (int i = 0; i < p->n; i++) {
        struct dp_worker *w = &p->w[i];
        close(w->to);
        close(w->from);
        if (w->pid > 0 && w->busy)
            kill(w->pid, SIGKILL);   /* its point is unfinished and not journaled */
    }
    for (int i = 0; i < p->n; i++)
        if (p->w[i].pid > 0)
            waitpid(p->w[i].pid, NULL, 0);
    free(p->w);
    p->w = NULL;
    p->n = 0;
}
