/* The CUDA platform's shared state: what platform_cuda.c (ops table, setup,
 * progress loop), platform_cuda_mem.c (arenas, request records, op
 * records), platform_cuda_move.c (data movement) and platform_cuda_compute.c
 * (compute) hold in common. Not a public header: hw/platform_cuda.h is.
 *
 * Where a request's KV lives: each request the platform has seen has a
 * record (struct hw_req, hung on the request's `plat` pointer from the
 * first op that names it) naming, per block of its context, the unit that
 * holds it in the prefill engine's DRAM and HBM and the decode engine's
 * DRAM and HBM. Units come from per-engine arenas and go back when core
 * would free the bytes: the PE's when the handoff out of its HBM is done,
 * the DE's DRAM when its DRAM -> HBM move is done, everything else when
 * core releases the request (the release op, after its last use).
 *
 * Every op completes through the progress loop (never inside the op call):
 * GPU work by a polled event, storage I/O by the reader pool's completion
 * list, timers from base's event queue; its status says how it went (core/platform.h).
 * Two kinds of failure:
 *  - an op's own (an arena full, a block the store could not read or
 *    write): that op completes with a negative status, core fails or
 *    retries the requests it carried, the run goes on; the first such
 *    message is kept for the report (hw_op_fail);
 *  - the platform's (a CUDA or cuBLAS call failed: every one is checked
 *    with HW_CUDA / HW_CUBLAS; an inconsistent scenario): the first is kept
 *    in p->ferr with the file, line and CUDA's error string, and stops the
 *    run from the loop (hw_fail).
 * An op's own failures are all found before any of its GPU work is
 * submitted, so a failed op has nothing left on the device. A KV block that
 * arrives with the wrong content is counted, not fatal. */
#ifndef DP_HW_PLATFORM_CUDA_IMPL_H
#define DP_HW_PLATFORM_CUDA_IMPL_H

#include <cublas_v2.h>
#include <stdint.h>

#include "base/evq.h"
#include "hw/cudautil.h"
#include "hw/kvfill.h"
#include "hw/platform_cuda.h"
#include "hw/store.h"

#define HW_MAX_DEV 16
#define HW_GEMM_ROWS 8192
#define HW_WTS_BYTES (256u << 20)
#define HW_A2A_BYTES (64u << 20)

/* Fixed-size units on a free stack, in pinned host memory or HBM. */
struct hw_arena {
    uint8_t *base;
    size_t unit;
    uint32_t n, nfree;
    uint32_t *free;
    int host;
};

struct hw_engine {
    int32_t id;
    int dev;
    int prefill;
    uint32_t gpus;
    struct dp_engine_hw ehw;
    cudaStream_t s_lo, s_hi, s_comp;
    cublasHandle_t blas;
    struct dp_tbucket rx, tx;         /* the storage NIC, each direction */
    struct hw_arena dram, hbm;
    void *ga, *gb, *gc, *wts;         /* GEMM scratch, bf16 */
    size_t g_k;
    void *a2a;
    unsigned long long *bad_d;
    struct dp_link_counters ctr;
};

/* Where one request's blocks are: unit index per block, -1 for none. */
struct hw_req {
    struct dp_request *r;
    int32_t pe, de;
    uint32_t nb;                      /* blocks of the final context */
    uint32_t pb;                      /* blocks after prefill */
    int32_t *u[4];                    /* HW_PE_DRAM .. HW_DE_HBM */
    struct hw_req *prev, *next;       /* every live record (teardown) */
};
enum { HW_PE_DRAM, HW_DE_DRAM, HW_PE_HBM, HW_DE_HBM };

/* A timer core armed, on the platform's event queue. */
struct hw_tmr {
    struct dp_ev ev;
    struct dp_timer *t;
    struct dp_hwplat *p;
    struct hw_tmr *next;              /* free list */
};

/* One op in flight: a transfer or a compute, its GPU part (events) and its
 * I/O part (store requests), and the pinned (src, dst, tag) arrays its
 * kernels read. */
struct hw_op {
    struct dp_xfer *x;
    struct dp_compute *k;
    struct hw_engine *e;              /* whose device its GPU part runs on */
    struct hw_req *hr;
    int status;                       /* 0, or the op's own failure (DP_E*) */
    int wait_ev, io_pending, stage, done;
    cudaEvent_t ev[HW_MAX_DEV];
    cudaEvent_t ev0[HW_MAX_DEV];      /* compute: its start, for the GPU time */
    int timed;
    struct dp_store_req *io;
    uint32_t io_cap;
    void **src, **dst;                /* pinned, mapped: read by the kernels */
    struct dp_kv_tag *tags;
    uint32_t n, cap;
    int32_t *tmp;                     /* staging DRAM units (write-back) */
    uint32_t n_tmp, tmp_cap;
    struct hw_op *next;
};

struct dp_hwplat {
    const struct dp_scenario *sc;
    struct dp_hwplat_opts o;
    struct dp_core *core;
    uint32_t n_eng;
    struct hw_engine *eng;
    int ngpu;
    int peer[HW_MAX_DEV][HW_MAX_DEV];
    struct dp_store *store;
    struct dp_store_pool *pool;
    uint64_t t0;
    struct dp_evq timers;             /* core's timers, by (time, arming order) */
    struct hw_tmr *free_tmrs;
    struct hw_op *live, *free_ops;
    struct hw_req *reqs;
    uint32_t L, bt;
    size_t lb16, slot;
    int failed;
    struct dp_err ferr;
    struct dp_hwplat_stats st;
};

/* ---- failures (platform_cuda.c) ------------------------------------------- */

/* The platform fails: keep the first failure (code, "WHAT: MSG"), which
 * stops the run; returns the kept code. */
int hw_fail(struct dp_hwplat *p, int code, const char *what, const char *msg);
/* One op fails alone: it completes with status `code` once nothing of it
 * is pending (the caller sets op->done when nothing is); returns code. */
int hw_op_fail(struct dp_hwplat *p, struct hw_op *op, int code, const char *msg);
/* A checked CUDA / cuBLAS call: 0, or the run's (first) failure code. */
#define HW_CUDA(p, call) hw_cuda_at((p), (call), #call, __FILE__, __LINE__)
#define HW_CUBLAS(p, call) hw_cublas_at((p), (int)(call), #call, __FILE__, __LINE__)
int hw_cuda_at(struct dp_hwplat *p, cudaError_t rc, const char *call, const char *file, int line);
int hw_cublas_at(struct dp_hwplat *p, int status, const char *call, const char *file, int line);

/* ---- arenas, request records, op records (platform_cuda_mem.c) ------------ */

int hw_arena_init(struct hw_arena *a, size_t unit, uint32_t n, int host, struct dp_err *err);
/* 0, or the first CUDA failure freeing it (kept in rc/err as DP_CUDA_KEEP). */
void hw_arena_free(struct hw_arena *a, int *rc, struct dp_err *err);
int32_t hw_arena_get(struct hw_arena *a);
void hw_arena_put(struct hw_arena *a, int32_t u);
static inline uint8_t *hw_unit_ptr(const struct hw_arena *a, int32_t u)
{
    return a->base + (size_t)u * a->unit;
}
static inline uint32_t hw_div_up(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }
static inline struct hw_engine *hw_eng(struct dp_hwplat *p, int32_t id) { return &p->eng[id]; }

struct hw_arena *hw_where_arena(struct dp_hwplat *p, struct hw_req *h, int w);
void hw_req_units_free(struct dp_hwplat *p, struct hw_req *h, int w);
/* Free a record and its units (the request is not touched). */
void hw_req_free(struct dp_hwplat *p, struct hw_req *h);
/* The record of request r, made on first sight; NULL when the platform
 * failed (p->failed says why). */
struct hw_req *hw_req_get(struct dp_hwplat *p, struct dp_request *r);
/* Give blocks [lo, hi) a unit each in `w`, where they have none yet; an
 * arena that runs out fails the op alone (hw_op_fail, op->done). */
int hw_req_alloc(struct dp_hwplat *p, struct hw_op *op, struct hw_req *h, int w, uint32_t lo,
                 uint32_t hi);
/* The release op (core/platform.h): the request's record and units go. */
void hw_release(void *plat, struct dp_request *r);

struct hw_op *hw_op_get(struct dp_hwplat *p);
/* Room for n (src, dst, tag) entries in pinned, mapped memory. */
int hw_op_room(struct dp_hwplat *p, struct hw_op *op, uint32_t n);
void hw_op_add(struct hw_op *op, void *src, void *dst, uint64_t sess, uint32_t b, uint32_t l);
struct dp_store_req *hw_op_io(struct dp_hwplat *p, struct hw_op *op, uint32_t n);
/* Mark the op's GPU part as submitted on `st` of engine e. */
int hw_op_record(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e, cudaStream_t st);
/* Compute ops time themselves on the GPU, to compare with the cost model. */
int hw_op_start_timing(struct dp_hwplat *p, struct hw_op *op, struct hw_engine *e);
/* Free a list of op records (events, pinned arrays); keeps the first failure. */
void hw_ops_free(struct hw_op *op, int *rc, struct dp_err *err);

/* ---- data movement (platform_cuda_move.c) ---------------------------------- */

int hw_move(void *plat, struct dp_xfer *x);
/* Write-back: its GPU part is done; the staged blocks go to the store. */
int hw_write_stage2(struct dp_hwplat *p, struct hw_op *op);
/* A transfer's bookkeeping before core hears of it (counters, units). */
void hw_xfer_finish(struct dp_hwplat *p, struct hw_op *op);

/* ---- compute (platform_cuda_compute.c) -------------------------------------- */

int hw_compute(void *plat, struct dp_compute *k);
/* GEMM scratch of one engine (activations, weights' stand-in, collective
 * buffer, bad-block counter). */
int hw_setup_scratch(struct dp_hwplat *p, struct hw_engine *e, struct dp_err *err);
size_t hw_scratch_bytes(const struct dp_scenario *sc);
/* Free what hw_setup_scratch allocated; keeps the first failure. */
void hw_free_scratch(struct hw_engine *e, int *rc, struct dp_err *err);
/* A compute op's GPU time beside the cost model's (the statistics). */
int hw_compute_time(struct dp_hwplat *p, struct hw_op *op);

/* ---- setup shared with the probe (platform_cuda.c) ------------------------ */

int hw_setup_streams(struct dp_hwplat *p, struct hw_engine *e, struct dp_err *err);
/* Free an engine's scratch, cuBLAS handle and streams; keeps the first
 * failure in rc/err. */
void hw_engine_free_gpu(struct hw_engine *e, int *rc, struct dp_err *err);

#endif
