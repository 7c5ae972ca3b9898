/* KV block store on files, SNIC token bucket, reader pool (store.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hw/kvfill.h"
#include "hw/store.h"

struct dp_store {
    char dir[PATH_MAX - 32];
    uint32_t n_layers;
    uint64_t layer_bytes, slot_bytes;
    int direct;
};

uint64_t dp_store_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void dp_store_path(const struct dp_store *s, uint64_t session, char *out, size_t n)
{
    snprintf(out, n, "%s/s%llu.kv", s->dir, (unsigned long long)session);
}

/* Does this directory's file system take O_DIRECT? (tmpfs answers EINVAL) */
static int dp_store_probe_direct(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.dp-direct-probe", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_DIRECT, 0600);
    if (fd < 0)
        return 0;
    close(fd);
    unlink(path);
    return 1;
}

int dp_store_open(struct dp_store **out, const char *dir, uint32_t n_layers,
                  uint64_t layer_bytes, int direct, struct dp_err *err)
{
    struct stat st;
    *out = NULL;
    if (n_layers == 0 || layer_bytes == 0 || layer_bytes % 8)
        return dp_err_set(err, DP_EINVAL, "store: layers (%u) and layer bytes (%llu, a "
                          "multiple of 8) must be positive", n_layers,
                          (unsigned long long)layer_bytes);
    if (strlen(dir) >= sizeof(((struct dp_store *)0)->dir))
        return dp_err_set(err, DP_EINVAL, "store: directory name too long");
    if (stat(dir, &st) != 0 && mkdir(dir, 0755) != 0)
        return dp_err_set(err, DP_EIO, "store: cannot create %s: %s", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, R_OK | W_OK | X_OK) != 0)
        return dp_err_set(err, DP_EIO, "store: %s is not a readable, writable directory", dir);
    int can_direct = direct != 0 && dp_store_probe_direct(dir);
    if (direct == 1 && !can_direct)
        return dp_err_set(err, DP_ENODEV, "store: %s does not support O_DIRECT", dir);
    struct dp_store *s = calloc(1, sizeof *s);
    if (!s)
        return dp_err_set(err, DP_ENOMEM, "store: out of memory");
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->n_layers = n_layers;
    s->layer_bytes = layer_bytes;
    s->slot_bytes = (layer_bytes + DP_STORE_ALIGN - 1) / DP_STORE_ALIGN * DP_STORE_ALIGN;
    s->direct = can_direct;
    *out = s;
    return 0;
}

void dp_store_close(struct dp_store *s)
{
    free(s);
}

uint64_t dp_store_slot_bytes(const struct dp_store *s) { return s->slot_bytes; }
uint64_t dp_store_layer_bytes(const struct dp_store *s) { return s->layer_bytes; }
uint32_t dp_store_layers(const struct dp_store *s) { return s->n_layers; }
int dp_store_is_direct(const struct dp_store *s) { return s->direct; }

uint64_t dp_store_read_bytes(const struct dp_store *s, uint32_t n_blocks, uint32_t n_layers)
{
    return (uint64_t)n_blocks * n_layers * s->slot_bytes;
}

/* pwrite/pread all of it, retrying short transfers and EINTR. */
static int dp_store_full_io(int fd, void *buf, size_t n, off_t off, int writing)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t k = writing ? pwrite(fd, p, n, off) : pread(fd, p, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k == 0 ? -ENODATA : -errno;
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

static void dp_store_fill_block(const struct dp_store *s, uint8_t *buf, uint64_t session,
                                uint32_t block)
{
    for (uint32_t l = 0; l < s->n_layers; l++) {
        uint8_t *slot = buf + (size_t)l * s->slot_bytes;
        dp_kv_fill_host(slot, s->layer_bytes, session, block, l);
        memset(slot + s->layer_bytes, 0, s->slot_bytes - s->layer_bytes);
    }
}

int dp_store_write_session(struct dp_store *s, uint64_t session, uint32_t n_blocks,
                           struct dp_err *err)
{
    char path[PATH_MAX];
    size_t bb = (size_t)s->n_layers * s->slot_bytes;
    void *buf = NULL;
    dp_store_path(s, session, path, sizeof path);
    if (posix_memalign(&buf, DP_STORE_ALIGN, bb) != 0)
        return dp_err_set(err, DP_ENOMEM, "store: out of memory for a %zu-byte block", bb);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | (s->direct ? O_DIRECT : 0), 0644);
    if (fd < 0) {
        free(buf);
        return dp_err_set(err, DP_EIO, "store: cannot write %s: %s", path, strerror(errno));
    }
    int rc = 0;
    for (uint32_t b = 0; b < n_blocks && rc == 0; b++) {
        dp_store_fill_block(s, buf, session, b);
        rc = dp_store_full_io(fd, buf, bb, (off_t)b * (off_t)bb, 1);
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    free(buf);
    if (rc)
        return dp_err_set(err, DP_EIO, "store: writing %s: %s", path, strerror(-rc));
    return 0;
}

int dp_store_write(struct dp_store *s, uint64_t session, uint32_t block_lo, uint32_t block_hi,
                   const void *src, struct dp_err *err)
{
    char path[PATH_MAX];
    size_t bb = (size_t)s->n_layers * s->slot_bytes;
    if (block_hi < block_lo)
        return dp_err_set(err, DP_EINVAL, "store: bad block range [%u,%u)", block_lo, block_hi);
    if (s->direct && ((uintptr_t)src % DP_STORE_ALIGN))
        return dp_err_set(err, DP_EINVAL, "store: O_DIRECT write buffer not 4 KiB aligned");
    dp_store_path(s, session, path, sizeof path);
    int fd = open(path, O_CREAT | O_WRONLY | (s->direct ? O_DIRECT : 0), 0644);
    if (fd < 0)
        return dp_err_set(err, DP_EIO, "store: cannot write %s: %s", path, strerror(errno));
    int rc = dp_store_full_io(fd, (void *)src, bb * (block_hi - block_lo),
                              (off_t)block_lo * (off_t)bb, 1);
    close(fd);
    if (rc)
        return dp_err_set(err, DP_EIO, "store: writing %s blocks [%u,%u): %s", path, block_lo,
                          block_hi, strerror(-rc));
    return 0;
}

int dp_store_read(struct dp_store *s, uint64_t session, uint32_t block_lo, uint32_t block_hi,
                  uint32_t layer_lo, uint32_t layer_hi, void *dst, struct dp_err *err)
{
    char path[PATH_MAX];
    if (block_hi < block_lo || layer_hi < layer_lo || layer_hi > s->n_layers)
        return dp_err_set(err, DP_EINVAL, "store: bad range blocks [%u,%u) layers [%u,%u)",
                          block_lo, block_hi, layer_lo, layer_hi);
    if (s->direct && ((uintptr_t)dst % DP_STORE_ALIGN))
        return dp_err_set(err, DP_EINVAL, "store: O_DIRECT read buffer not 4 KiB aligned");
    dp_store_path(s, session, path, sizeof path);
    int fd = open(path, O_RDONLY | (s->direct ? O_DIRECT : 0));
    if (fd < 0)
        return dp_err_set(err, errno == ENOENT ? DP_ENOENT : DP_EIO,
                          "store: cannot read %s: %s", path, strerror(errno));
    size_t run = (size_t)(layer_hi - layer_lo) * s->slot_bytes;
    uint8_t *p = dst;
    int rc = 0;
    for (uint32_t b = block_lo; b < block_hi && rc == 0; b++, p += run) {
        off_t off = ((off_t)b * s->n_layers + layer_lo) * (off_t)s->slot_bytes;
        rc = dp_store_full_io(fd, p, run, off, 0);
    }
    close(fd);
    if (rc)
        return dp_err_set(err, DP_EIO, "store: reading %s blocks [%u,%u): %s", path, block_lo,
                          block_hi, rc == -ENODATA ? "past the end (block not written)"
                                                   : strerror(-rc));
    return 0;
}

uint64_t dp_store_check(const struct dp_store *s, const void *dst, uint64_t session,
                        uint32_t block_lo, uint32_t block_hi, uint32_t layer_lo,
                        uint32_t layer_hi)
{
    const uint8_t *p = dst;
    uint64_t bad = 0;
    for (uint32_t b = block_lo; b < block_hi; b++)
        for (uint32_t l = layer_lo; l < layer_hi; l++, p += s->slot_bytes)
            bad += !dp_kv_check_host(p, s->layer_bytes, session, b, l);
    return bad;
}

/* ---- token bucket ---------------------------------------------------------- */

void dp_tbucket_init(struct dp_tbucket *tb, double rate, double burst)
{
    tb->rate = rate;
    tb->burst = burst;
    tb->next_ns = 0;
    pthread_mutex_init(&tb->mu, NULL);
}

void dp_tbucket_destroy(struct dp_tbucket *tb)
{
    pthread_mutex_destroy(&tb->mu);
}

uint64_t dp_tbucket_reserve(struct dp_tbucket *tb, uint64_t now_ns, uint64_t bytes)
{
    if (tb->rate <= 0)
        return now_ns;
    pthread_mutex_lock(&tb->mu);
    /* idle time refills at most `burst` bytes of credit */
    double floor_ns = (double)now_ns - tb->burst / tb->rate * 1e9;
    if (tb->next_ns < floor_ns)
        tb->next_ns = floor_ns;
    tb->next_ns += (double)bytes / tb->rate * 1e9;
    double done = tb->next_ns;
    pthread_mutex_unlock(&tb->mu);
    return done < (double)now_ns ? now_ns : (uint64_t)done;
}

/* ---- reader pool ------------------------------------------------------------ */

struct dp_store_pool {
    struct dp_store *store;
    pthread_mutex_t mu;
    pthread_cond_t work, done_cv;
    struct dp_store_req *head, *tail;       /* queued */
    struct dp_store_req *dhead, *dtail;     /* completed, not yet polled */
    int stop;
    int n_threads;
    pthread_t *threads;
};

static void dp_sleep_until(uint64_t t_ns)
{
    struct timespec ts = {(time_t)(t_ns / 1000000000ULL), (long)(t_ns % 1000000000ULL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* Reserve the SNIC first, read, then hold the completion until the bucket's
 * time: the slower of the disk and the emulated NIC sets the pace. */
static void dp_store_serve(struct dp_store_pool *p, struct dp_store_req *r)
{
    struct dp_err err = {{0}};
    uint64_t bytes = dp_store_read_bytes(p->store, r->block_hi - r->block_lo,
                                         r->layer_hi - r->layer_lo);
    if (r->write)
        bytes = dp_store_read_bytes(p->store, r->block_hi - r->block_lo, p->store->n_layers);
    uint64_t due = r->bucket ? dp_tbucket_reserve(r->bucket, dp_store_now_ns(), bytes) : 0;
    if (r->write)
        r->status = dp_store_write(p->store, r->session, r->block_lo, r->block_hi, r->dst, &err);
    else
        r->status = dp_store_read(p->store, r->session, r->block_lo, r->block_hi, r->layer_lo,
                                  r->layer_hi, r->dst, &err);
    if (r->status)
        snprintf(r->msg, sizeof r->msg, "%.*s", (int)sizeof r->msg - 1, err.msg);
    if (due > dp_store_now_ns())
        dp_sleep_until(due);
    r->done_ns = dp_store_now_ns();
}

static void *dp_store_worker(void *arg)
{
    struct dp_store_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (!p->head)
            break;
        struct dp_store_req *r = p->head;
        p->head = r->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        dp_store_serve(p, r);
        pthread_mutex_lock(&p->mu);
        r->next = NULL;
        if (p->dtail)
            p->dtail->next = r;
        else
            p->dhead = r;
        p->dtail = r;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int dp_store_pool_create(struct dp_store_pool **out, struct dp_store *s, int threads,
                         struct dp_err *err)
{
    struct dp_store_pool *p = calloc(1, sizeof *p);
    *out = NULL;
    if (threads < 1)
        threads = 1;
    if (!p || !(p->threads = calloc((size_t)threads, sizeof *p->threads))) {
        free(p);
        return dp_err_set(err, DP_ENOMEM, "store: out of memory for the reader pool");
    }
    p->store = s;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, dp_store_worker, p) != 0) {
            p->n_threads = i;
            dp_store_pool_destroy(p);
            return dp_err_set(err, DP_EIO, "store: cannot start reader thread %d", i);
        }
    }
    p->n_threads = threads;
    *out = p;
    return 0;
}

void dp_store_pool_destroy(struct dp_store_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done_cv);
    free(p->threads);
    free(p);
}

void dp_store_pool_submit(struct dp_store_pool *p, struct dp_store_req *r)
{
    r->next = NULL;
    r->status = 0;
    r->msg[0] = 0;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = r;
    else
        p->head = r;
    p->tail = r;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

static struct dp_store_req *dp_store_take_done(struct dp_store_pool *p)
{
    struct dp_store_req *r = p->dhead;
    p->dhead = p->dtail = NULL;
    return r;
}

struct dp_store_req *dp_store_pool_poll(struct dp_store_pool *p)
{
    pthread_mutex_lock(&p->mu);
    struct dp_store_req *r = dp_store_take_done(p);
    pthread_mutex_unlock(&p->mu);
    return r;
}

struct dp_store_req *dp_store_pool_wait(struct dp_store_pool *p, uint64_t timeout_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + timeout_ns;
    ts.tv_sec = (time_t)(t / 1000000000ULL);
    ts.tv_nsec = (long)(t % 1000000000ULL);
    pthread_mutex_lock(&p->mu);
    while (!p->dhead)
        if (pthread_cond_timedwait(&p->done_cv, &p->mu, &ts) == ETIMEDOUT)
            break;
    struct dp_store_req *r = dp_store_take_done(p);
    pthread_mutex_unlock(&p->mu);
    return r;
}
