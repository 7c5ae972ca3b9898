/* Core internals shared by the .c files of core/ (not a public header). */
#ifndef DP_CORE_IMPL_H
#define DP_CORE_IMPL_H

#include "core/core.h"
#include "core/engine.h"
#include "core/kvindex.h"
#include "core/metrics.h"
#include "core/policy.h"
#include "core/request.h"

/* Tags: which step of a request's life a descriptor is. */
enum {
    T_READ_PE = 1, T_READ_DE, T_MV_PE, T_MV_DE, T_WRITE,
    T_LAYER_LOAD, T_PREFILL_A2A, T_DECODE_A2A,
    T_PREFILL, T_DECODE,
};
enum { TM_TURN = 1, TM_SAMPLE, TM_STOP, TM_DAG };

struct dp_sess_state {
    uint64_t ctx_tokens;        /* input + output of turns so far */
    uint64_t stored_tokens;     /* whole blocks of this session in storage */
    uint32_t next_turn;
    struct dp_timer timer;      /* the next turn's issue */
    size_t dag_base;            /* DAG sessions: first turn's index in dp_core.dag */
    uint32_t dag_done;          /* DAG sessions: turns ended */
};

/* A turn of a DAG session (core/dag.c). */
struct dp_dag_turn {
    struct dp_timer timer;      /* its issue */
    dp_time_t ready_at;         /* when its last dependency ended */
    uint32_t sess, turn;
    uint32_t left;              /* dependencies not ended yet */
    uint8_t skip;               /* a dependency failed: ends without a request */
};

struct dp_batch {
    struct dp_engine *pe;
    struct dp_request **reqs;
    uint32_t n;
    struct dp_prefill_shape shape;
    uint32_t n_layers;
    uint32_t n_src;             /* load sources: [0] the PE's DRAM, then DEs */
    int32_t *src_engine;
    double *src_layer_bytes;    /* bytes per layer from each source */
    struct dp_xfer *loads;      /* [layer * n_src + s] */
    uint16_t *load_pending;     /* per layer */
    uint32_t next_load;         /* first layer whose loads are not issued */
    uint32_t next_compute;      /* layer to compute next */
    int layer_parts;            /* compute + collective outstanding */
    double a2a_layer_bytes;
    struct dp_compute comp;
    struct dp_xfer a2a;
};

struct dp_core {
    const struct dp_scenario *sc;
    const struct dp_workload *w;
    const struct dp_platform_ops *ops;  /* points at ops_tab */
    struct dp_platform_ops ops_tab;     /* the platform's, optional ops defaulted */
    void *plat;
    int in_op;                          /* inside an ops call: no callback may come */
    struct dp_seam_stats seam;

    struct dp_engine *engines;  /* PEs then DEs */
    uint32_t n_pe, n_de;
    struct dp_cluster_view view;
    const struct dp_policy_ops *policy;
    void *policy_state;
    double kv_tok, kv_tok_layer;

    struct dp_sess_state *sess;
    struct dp_dag_turn *dag;        /* every DAG session's turns */
    size_t n_dag;
    uint32_t *dag_succ_off, *dag_succ;   /* CSR: the turns waiting for each */
    struct dp_kvindex index;
    struct dp_request *free_reqs;
    struct dp_request **all_reqs;   /* every request allocated, live or free:
                                     * a run cut short frees them all */
    size_t n_all_reqs, cap_all_reqs;
    uint64_t next_req_id;
    uint64_t issued, finished, total_requests, sessions_done, live;

    struct dp_metrics metrics;
    struct dp_timer sample_timer, stop_timer;
    struct dp_link_counters *last_ctr;
    dp_time_t last_sample;
    int stopped;
    int error;
    struct dp_err err;
};

static inline dp_time_t core_now(struct dp_core *c) { return c->ops->now(c->plat); }
static inline struct dp_engine *core_pe(struct dp_core *c, uint32_t i) { return &c->engines[i]; }
static inline struct dp_engine *core_de(struct dp_core *c, uint32_t i) { return &c->engines[c->n_pe + i]; }
static inline struct dp_engine *core_engine(struct dp_core *c, int32_t id) { return &c->engines[id]; }

void core_fail(struct dp_core *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hand an op to the platform (status pending, in flight); a refusal stops
 * the run. 0 or the platform's code. */
int core_move(struct dp_core *c, struct dp_xfer *x);
int core_compute(struct dp_core *c, struct dp_compute *k);
/* Describe a move of blocks [lo, hi) of a request's KV, every layer, in the
 * KV lane (storage reads and writes, handoff moves). */
void core_req_xfer(struct dp_core *c, struct dp_request *r, struct dp_xfer *x, uint8_t kind,
                   uint16_t tag, struct dp_loc src, struct dp_loc dst, uint32_t lo, uint32_t hi,
                   double bytes);
/* A step's expert all-to-all among the engine's GPUs, in the model lane. */
int core_collective(struct dp_core *c, struct dp_xfer *x, const struct dp_engine *e, double bytes,
                    uint16_t tag, void *owner, uint32_t layer_lo, uint32_t layer_hi);

/* storage_io.c */
void core_read_enqueue(struct dp_core *c, struct dp_engine *e, struct dp_xfer *x);
void core_read_pump(struct dp_core *c, struct dp_engine *e);
void core_read_done(struct dp_core *c, struct dp_xfer *x);
void core_write_back(struct dp_core *c, struct dp_request *r);
void core_write_done(struct dp_core *c, struct dp_xfer *x);

/* prefill.c */
void core_prefill_ready(struct dp_core *c, struct dp_request *r);
void core_prefill_try(struct dp_core *c, struct dp_engine *pe);
void core_prefill_load_done(struct dp_core *c, struct dp_xfer *x);
void core_prefill_free(struct dp_engine *pe);
void core_prefill_part_done(struct dp_core *c, struct dp_batch *b, int compute_part);
/* A compute or collective of the batch failed: every request of it fails
 * (they leave at the batch's end). */
void core_prefill_fail(struct dp_core *c, struct dp_batch *b);

/* decode.c */
void core_handoff_start(struct dp_core *c, struct dp_request *r);
void core_handoff_move_done(struct dp_core *c, struct dp_xfer *x);
/* A part of the step is done; `failed`: it failed, and so does every
 * request of the step (they leave when the step ends). */
void core_decode_part_done(struct dp_core *c, struct dp_engine *de, int compute_part, int failed);
void core_admit_pump(struct dp_core *c, struct dp_engine *de);

/* core.c */
void core_request_finished(struct dp_core *c, struct dp_request *r);
void core_issue_turn(struct dp_core *c, uint32_t si, uint32_t k);
/* Hand a timer to the platform (seam bookkeeping: in flight, counted). */
void core_arm_timer(struct dp_core *c, struct dp_timer *t, uint32_t kind, void *owner,
                    dp_time_t at);
static inline dp_time_t core_time_add(dp_time_t a, dp_time_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* dag.c */
int core_dag_init(struct dp_core *c, struct dp_err *err);
void core_dag_free(struct dp_core *c);
void core_dag_start(struct dp_core *c, uint32_t si);
void core_dag_on_timer(struct dp_core *c, struct dp_dag_turn *d);
void core_dag_finished(struct dp_core *c, const struct dp_request *r);
/* The request's life is over: ops->release, then the free list. */
void core_request_release(struct dp_core *c, struct dp_request *r);
/* A failed request leaves now: what it holds goes back (HBM, DRAM, pending
 * tokens), it is recorded as failed (its session ends), and released. */
void core_request_abort(struct dp_core *c, struct dp_request *r);

#endif
