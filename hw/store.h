/* The KV block store of the hardware shim: files standing in for 3FS.
 *
 * One file per session (DIR/s<session>.kv), block-major: block b's layer l
 * slice lives at offset (b * n_layers + l) * slot_bytes, where slot_bytes is
 * the slice's payload (layer_bytes) rounded up to 4 KiB so that every slice
 * can be read with O_DIRECT. Reading a whole block (all layers) is one
 * contiguous read; a layerwise load reads one slot per block.
 *
 * Every slice holds the bytes kvfill.h derives from (session, block, layer),
 * written by dp_store_write_session(), so reads can be verified anywhere.
 *
 * Reads are shaped by a token bucket per engine that emulates the storage
 * NIC's bandwidth, and run on a pool of reader threads (pread; no io_uring
 * needed) whose completions a progress loop polls.
 *
 * Pure C and POSIX: no CUDA here, so the unit tests run anywhere. */
#ifndef DP_HW_STORE_H
#define DP_HW_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/errors.h"

#define DP_STORE_ALIGN 4096u

struct dp_store;

/* direct: 1 require O_DIRECT, 0 page cache only, -1 O_DIRECT where the file
 * system takes it (tmpfs does not), else the page cache. The directory is
 * created if missing. */
int dp_store_open(struct dp_store **out, const char *dir, uint32_t n_layers,
                  uint64_t layer_bytes, int direct, struct dp_err *err);
void dp_store_close(struct dp_store *s);

uint64_t dp_store_slot_bytes(const struct dp_store *s);
uint64_t dp_store_layer_bytes(const struct dp_store *s);
uint32_t dp_store_layers(const struct dp_store *s);
/* 1 when reads bypass the page cache. */
int dp_store_is_direct(const struct dp_store *s);

/* Write blocks [0, n_blocks) of a session, all layers. */
int dp_store_write_session(struct dp_store *s, uint64_t session, uint32_t n_blocks,
                           struct dp_err *err);

/* Write whole blocks [block_lo, block_hi) (all layers, laid out as a read
 * of all layers leaves them: slot_bytes per layer) from src (4 KiB
 * aligned) into the session's file, creating it if needed. */
int dp_store_write(struct dp_store *s, uint64_t session, uint32_t block_lo, uint32_t block_hi,
                   const void *src, struct dp_err *err);

/* Bytes a read of a block range x layer range lands in dst. */
uint64_t dp_store_read_bytes(const struct dp_store *s, uint32_t n_blocks, uint32_t n_layers);

/* Read blocks [block_lo, block_hi) x layers [layer_lo, layer_hi) of a session
 * into dst (4 KiB aligned), block-major, one slot per (block, layer). */
int dp_store_read(struct dp_store *s, uint64_t session, uint32_t block_lo, uint32_t block_hi,
                  uint32_t layer_lo, uint32_t layer_hi, void *dst, struct dp_err *err);

/* Count the slices of dst (laid out as dp_store_read leaves them) whose
 * payload is not their (session, block, layer) content. */
uint64_t dp_store_check(const struct dp_store *s, const void *dst, uint64_t session,
                        uint32_t block_lo, uint32_t block_hi, uint32_t layer_lo,
                        uint32_t layer_hi);

/* ---- token bucket: one per engine, emulating its storage NIC -------------
 * A virtual clock: a reservation of `bytes` at time `now` completes at
 * next = max(next, now - burst/rate) + bytes/rate. Thread-safe. rate 0 means
 * unlimited (completes at now). */
struct dp_tbucket {
    double rate;          /* bytes per second */
    double burst;         /* bytes that may go at once after idleness */
    double next_ns;       /* when the bytes reserved so far have drained */
    pthread_mutex_t mu;
};
void dp_tbucket_init(struct dp_tbucket *tb, double rate, double burst);
void dp_tbucket_destroy(struct dp_tbucket *tb);
/* Reserve bytes at now_ns; returns the time (ns) the transfer completes. */
uint64_t dp_tbucket_reserve(struct dp_tbucket *tb, uint64_t now_ns, uint64_t bytes);

/* ---- reader pool ----------------------------------------------------------
 * A request is owned by its submitter and must stay valid until polled. */
struct dp_store_req {
    uint64_t session;
    uint32_t block_lo, block_hi, layer_lo, layer_hi;
    void *dst;                 /* 4 KiB aligned, dp_store_read_bytes() long */
    int write;                 /* 1: write whole blocks from dst instead (layers ignored) */
    struct dp_tbucket *bucket; /* the engine's SNIC (rx for reads, tx for writes), or NULL */
    void *user;
    /* set by the pool */
    int status;                /* 0 ok, <0 DP_E* */
    uint64_t done_ns;          /* monotonic time of completion */
    char msg[160];             /* error line when status < 0 */
    struct dp_store_req *next;
};

struct dp_store_pool;
int dp_store_pool_create(struct dp_store_pool **out, struct dp_store *s, int threads,
                         struct dp_err *err);
/* Stops the threads after the queued requests are done. */
void dp_store_pool_destroy(struct dp_store_pool *p);
void dp_store_pool_submit(struct dp_store_pool *p, struct dp_store_req *r);
/* Take the completed requests (a list through ->next, in completion order),
 * or NULL; never blocks. */
struct dp_store_req *dp_store_pool_poll(struct dp_store_pool *p);
/* Block until at least one request completes, at most timeout_ns; then poll. */
struct dp_store_req *dp_store_pool_wait(struct dp_store_pool *p, uint64_t timeout_ns);

/* Monotonic clock, ns (the bucket's and the pool's time base). */
uint64_t dp_store_now_ns(void);

#endif
