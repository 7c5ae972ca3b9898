/* Micro-benchmark of the event queue + flow-level link model.
 *
 * A storage-read pattern: `nodes` hosts, each with an SNIC, a DRAM and a
 * PCIe link; `backends` storage backend links, host i reading from backend
 * i % backends. A flow's path is backend -> SNIC -> DRAM -> PCIe (4 links),
 * so the flows of one backend form one connected component of about
 * conc / backends flows. `conc` closed-loop slots each start a flow of
 * random size (exponential, mean 4 MiB) on a random host, and after it ends
 * wait a short random think time (exponential, mean 2 us) before the next:
 * starts and completions are separate events, each one a settle of a
 * ~conc/backends-flow component. A fraction of the flows run in lane 0.
 *
 * Prints flows_per_second= (completions per wall second) and
 * events_per_second= (events popped per wall second: starts + completions,
 * and the rare zero-think timers). Ends with an exactness check: after
 * draining, every backend carried exactly the bytes of its finished flows.
 *
 * Not part of the library: build with -O2 -DNDEBUG against sim/ and core/. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/errors.h"
#include "base/evq.h"
#include "sim/links.h"

struct slot {
    struct dp_flow f;
    struct dp_ev start_ev;
    uint32_t backend;
};

static struct {
    struct dp_evq q;
    struct dp_net net;
    uint64_t now;
    uint64_t rng;
    unsigned nodes, backends;
    uint32_t *snic, *dram, *pcie, *be;
    double lane0_frac;
    uint64_t to_start;       /* flows still to start */
    uint64_t done;
    double *be_expect;       /* bytes of finished flows per backend */
} B;

static double urand(void)
{
    /* xorshift64*: fast, and deterministic across platforms */
    B.rng ^= B.rng >> 12;
    B.rng ^= B.rng << 25;
    B.rng ^= B.rng >> 27;
    return (double)((B.rng * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

static double exp_rand(double mean) { return -mean * log1p(-urand()); }

static void flow_done(struct dp_flow *f, void *ctx);

static void slot_start(struct dp_ev *ev, void *ctx)
{
    (void)ev;
    struct slot *s = ctx;
    unsigned node = (unsigned)(urand() * B.nodes);
    uint32_t be = node % B.backends;
    uint32_t path[4] = {B.be[be], B.snic[node], B.dram[node], B.pcie[node]};
    unsigned lane = urand() < B.lane0_frac ? 0 : 1;
    double bytes = floor(exp_rand(4.0 * 1024 * 1024)) + 1;
    s->backend = be;
    int rc = dp_flow_start(&B.net, &s->f, path, 4, lane, bytes, B.now,
                           flow_done, s);
    if (rc) {
        fprintf(stderr, "dp_flow_start: %s\n", dp_strerror(rc));
        abort();
    }
}

static void flow_done(struct dp_flow *f, void *ctx)
{
    struct slot *s = ctx;
    B.done++;
    B.be_expect[s->backend] += f->bytes_total;
    if (B.to_start) {
        B.to_start--;
        dp_evq_schedule(&B.q, &s->start_ev,
                        B.now + (uint64_t)exp_rand(2000.0));
    }
}

static void run(uint64_t until_done)
{
    for (;;) {
        struct dp_ev *ev = dp_evq_peek(&B.q);
        if (dp_net_dirty(&B.net) && (!ev || ev->t > B.now)) {
            dp_net_settle(&B.net, B.now);
            continue;
        }
        if (!ev || B.done >= until_done)
            break;
        ev = dp_evq_pop(&B.q);
        B.now = ev->t;
        ev->fn(ev, ev->ctx);
    }
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t add(const char *kind, unsigned i, double gbps)
{
    char name[48];
    snprintf(name, sizeof name, "%s%u", kind, i);
    int id = dp_net_add_link(&B.net, name, gbps * 1e9 / 8);
    if (id < 0)
        abort();
    return (uint32_t)id;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_links [-n nodes] [-b backends] [-c concurrent]"
                    " [-f flows] [-p lane0_fraction] [-s seed]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned conc = 400;
    uint64_t flows = 1000000, seed = 1;
    B.nodes = 64;
    B.backends = 4;
    B.lane0_frac = 0.2;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc)
            usage();
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "-n")) B.nodes = (unsigned)atoi(v);
        else if (!strcmp(o, "-b")) B.backends = (unsigned)atoi(v);
        else if (!strcmp(o, "-c")) conc = (unsigned)atoi(v);
        else if (!strcmp(o, "-f")) flows = strtoull(v, NULL, 10);
        else if (!strcmp(o, "-p")) B.lane0_frac = atof(v);
        else if (!strcmp(o, "-s")) seed = strtoull(v, NULL, 10);
        else usage();
    }
    if (!B.nodes || !B.backends || B.backends > B.nodes || !conc || !flows)
        usage();
    B.rng = seed * 0x9E3779B97F4A7C15ull + 1;

    if (dp_evq_init(&B.q) || dp_net_init(&B.net, &B.q))
        return 1;
    B.snic = calloc(B.nodes, sizeof *B.snic);
    B.dram = calloc(B.nodes, sizeof *B.dram);
    B.pcie = calloc(B.nodes, sizeof *B.pcie);
    B.be = calloc(B.backends, sizeof *B.be);
    B.be_expect = calloc(B.backends, sizeof *B.be_expect);
    struct slot *slots = calloc(conc, sizeof *slots);
    if (!B.snic || !B.dram || !B.pcie || !B.be || !B.be_expect || !slots)
        return 1;
    /* Gbit/s: backend 800, SNIC 400, DRAM 1600, PCIe 512 (64 GB/s). */
    for (unsigned i = 0; i < B.backends; i++)
        B.be[i] = add("backend", i, 800);
    for (unsigned i = 0; i < B.nodes; i++) {
        B.snic[i] = add("snic", i, 400);
        B.dram[i] = add("dram", i, 1600);
        B.pcie[i] = add("pcie", i, 512);
    }

    B.to_start = flows > conc ? flows - conc : 0;
    for (unsigned i = 0; i < conc && i < flows; i++) {
        dp_ev_init(&slots[i].start_ev, slot_start, &slots[i]);
        dp_evq_schedule(&B.q, &slots[i].start_ev, (uint64_t)exp_rand(2000.0));
    }

    /* Warm up (pools, heaps at size), then time the rest. */
    uint64_t warm = flows / 20;
    run(warm);
    uint64_t ev0 = B.q.popped, done0 = B.done, rec0 = B.net.recomputes;
    uint64_t t_sim0 = B.now;
    double t0 = wall();
    run(flows);
    double dt = wall() - t0;
    uint64_t events = B.q.popped - ev0, done = B.done - done0;
    uint64_t recs = B.net.recomputes - rec0;

    printf("nodes=%u backends=%u concurrent=%u lane0=%.2f flows=%llu\n",
           B.nodes, B.backends, conc, B.lane0_frac, (unsigned long long)done);
    printf("wall_s=%.3f sim_s=%.6f recomputes=%llu flows_per_component~%.0f\n",
           dt, (B.now - t_sim0) * 1e-9, (unsigned long long)recs,
           (double)conc / B.backends);
    printf("flows_per_second=%.0f\n", done / dt);
    printf("events_per_second=%.0f\n", events / dt);
    printf("recomputes_per_second=%.0f\n", recs / dt);

    /* Drain, then check the byte accounting. */
    B.to_start = 0;
    run(UINT64_MAX);
    double worst = 0;
    for (unsigned i = 0; i < B.backends; i++) {
        double got = dp_link_bytes(&B.net, B.be[i], B.now);
        double rel = fabs(got - B.be_expect[i]) / B.be_expect[i];
        if (rel > worst)
            worst = rel;
    }
    printf("backend_bytes_rel_error=%.3g active_left=%llu err=%d\n", worst,
           (unsigned long long)B.net.n_flows_active, B.net.err);
    int bad = worst > 1e-9 || B.net.n_flows_active || B.net.err;

    dp_net_free(&B.net);
    dp_evq_free(&B.q);
    free(B.snic); free(B.dram); free(B.pcie); free(B.be); free(B.be_expect);
    free(slots);
    return bad;
}
