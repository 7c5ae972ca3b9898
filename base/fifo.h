/* A FIFO of pointers on a growable ring (the engines' queues). A zeroed
 * struct is an empty queue; the owner frees it with dp_fifo_free().
 * Header-only, libc only. */
#ifndef DP_FIFO_H
#define DP_FIFO_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"

struct dp_fifo {
    void **buf;
    uint32_t head, n, cap;   /* cap is a power of two */
};

/* 0, or DP_ENOMEM (the queue unchanged). */
static inline int dp_fifo_push(struct dp_fifo *q, void *p)
{
    if (q->n == q->cap) {
        uint32_t cap = q->cap ? q->cap * 2 : 16;
        void **b = malloc(cap * sizeof *b);
        if (!b)
            return DP_ENOMEM;
        for (uint32_t i = 0; i < q->n; i++)
            b[i] = q->buf[(q->head + i) & (q->cap - 1)];
        free(q->buf);
        q->buf = b;
        q->head = 0;
        q->cap = cap;
    }
    q->buf[(q->head + q->n++) & (q->cap - 1)] = p;
    return 0;
}

static inline void *dp_fifo_peek(const struct dp_fifo *q)
{
    return q->n ? q->buf[q->head] : NULL;
}

static inline void *dp_fifo_at(const struct dp_fifo *q, uint32_t i)
{
    return q->buf[(q->head + i) & (q->cap - 1)];
}

static inline void *dp_fifo_pop(struct dp_fifo *q)
{
    if (!q->n)
        return NULL;
    void *p = q->buf[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->n--;
    return p;
}

static inline void dp_fifo_free(struct dp_fifo *q)
{
    free(q->buf);
    memset(q, 0, sizeof *q);
}

#endif
