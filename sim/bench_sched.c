/* Cost of the global scheduler's decision per request: route() over a
 * cluster view of N engines with live-looking queue states. Prints
 * scheduler_ns_per_request=... for each policy.
 *   bench_sched SCENARIO.yaml [PE DE] [ITERATIONS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/policy.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sched SCENARIO.yaml [PE DE] [ITERATIONS]\n");
        return 2;
    }
    struct dp_scenario sc;
    struct dp_err err = { "" };
    if (dp_scenario_load(&sc, argv[1], &err)) {
        fprintf(stderr, "bench_sched: %s\n", err.msg);
        return 1;
    }
    uint32_t n_pe = argc > 3 ? (uint32_t)atoi(argv[2]) : sc.cluster.prefill_engines;
    uint32_t n_de = argc > 3 ? (uint32_t)atoi(argv[3]) : sc.cluster.decode_engines;
    long iters = argc > 4 ? atol(argv[4]) : 1000000;
    struct dp_engine *pes = calloc(n_pe, sizeof *pes), *des = calloc(n_de, sizeof *des);
    srand(1);
    for (uint32_t i = 0; i < n_pe; i++) {
        dp_engine_hw_from(&pes[i].hw, &sc.hw, sc.cluster.prefill_gpus);
        pes[i].pending_tokens = (uint64_t)(rand() % 100000);
        pes[i].read_q_bytes = rand() % 1000 * 1e7;
    }
    for (uint32_t i = 0; i < n_de; i++) {
        dp_engine_hw_from(&des[i].hw, &sc.hw, sc.cluster.decode_gpus);
        des[i].n_running = (uint32_t)(rand() % 200);
        des[i].read_q_bytes = rand() % 1000 * 1e7;
    }
    struct dp_cluster_view v = { &sc, pes, n_pe, des, n_de, dp_kv_bytes_per_token(&sc.model), 0, 0 };
    struct dp_request r;
    memset(&r, 0, sizeof r);
    r.block_tokens = 64;
    r.kv_tok = v.kv_tok;
    r.cached_blocks = 600;
    printf("engines=%u\n", n_pe + n_de);
    for (const char *const *name = dp_policy_names(); *name; name++) {
        const struct dp_policy_ops *p = dp_policy_find(*name);
        void *st = NULL;
        if (p->init && p->init(&v, &st, &err))
            return 1;
        struct dp_route rt;
        uint64_t sink = 0;
        double t0 = now_s();
        for (long i = 0; i < iters; i++) {
            /* the state moves between decisions, as it does in a run */
            pes[i % n_pe].pending_tokens += 400;
            des[i % n_de].read_q_bytes += 1e6;
            p->route(st, &v, &r, &rt);
            sink += (uint64_t)rt.pe + (uint64_t)rt.de + rt.de_blocks;
        }
        double ns = (now_s() - t0) / (double)iters * 1e9;
        printf("%s_scheduler_ns_per_request=%.1f\n", *name, ns);
        if (!strcmp(*name, "dualpath"))
            printf("scheduler_ns_per_request=%.1f\n", ns);
        if (p->fini)
            p->fini(st);
        if (sink == 42)
            printf("\n");
    }
    free(pes);
    free(des);
    return 0;
}
