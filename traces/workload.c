/* Workload construction: a growable session array plus a chunked arena for
 * turns and hash ids.
 *
 * Why an arena: traces hold 100,000+ sessions and millions of turns; one
 * malloc per turn array would cost time and memory overhead, and a single
 * realloc'd array would move, invalidating the turns/hash_ids pointers that
 * sessions keep. Chunks never move, so those pointers stay valid for the
 * workload's lifetime. The session array itself is realloc'd (amortized
 * doubling): a pointer returned by dp_workload_add is valid only until the
 * next add. */
#include "traces/workload.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"
#include "base/grow.h"

#define ARENA_FIRST_CHUNK ((size_t)64 * 1024)        /* small workloads stay small */
#define ARENA_MAX_CHUNK ((size_t)16 * 1024 * 1024)   /* growth stops doubling here */

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

struct arena {
    struct arena_chunk *head;   /* the chunk allocations are served from */
    size_t next_size;           /* size of the next chunk, doubling */
};

static size_t align_up(size_t n)
{
    const size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

static void *arena_alloc(struct arena *a, size_t n)
{
    n = align_up(n ? n : 1);
    struct arena_chunk *c = a->head;
    if (c && c->cap - c->used >= n) {
        void *p = c->data + c->used;
        c->used += n;
        return p;
    }
    size_t size = a->next_size;
    if (size < n)
        size = n;
    c = malloc(sizeof *c + size);
    if (!c)
        return NULL;
    c->cap = size;
    c->used = n;
    if (a->next_size < ARENA_MAX_CHUNK)
        a->next_size *= 2;
    /* An oversized request that leaves its chunk full goes behind the
     * current head, so the head's free space is not abandoned. */
    if (a->head && size == n && a->head->cap - a->head->used > 0) {
        c->next = a->head->next;
        a->head->next = c;
    } else {
        c->next = a->head;
        a->head = c;
    }
    return c->data;
}

void dp_workload_init(struct dp_workload *w, uint32_t block_tokens)
{
    memset(w, 0, sizeof *w);
    w->block_tokens = block_tokens;
}

void dp_workload_free(struct dp_workload *w)
{
    if (!w)
        return;
    struct arena *a = w->arena;
    if (a) {
        struct arena_chunk *c = a->head;
        while (c) {
            struct arena_chunk *next = c->next;
            free(c);
            c = next;
        }
        free(a);
    }
    free(w->sessions);
    /* Leave an empty, reusable workload: freeing twice is harmless. */
    uint32_t bt = w->block_tokens;
    dp_workload_init(w, bt);
}

static int grow_sessions(struct dp_workload *w)
{
    struct dp_session *s = dp_grow(w->sessions, &w->cap_sessions, w->n_sessions + 1,
                                   sizeof *s, 256);
    if (!s)
        return DP_ENOMEM;
    w->sessions = s;
    return 0;
}

/* Copies turns, every turn's hash ids and (DAG sessions) the links and
 * their dependency lists into the arena, in one allocation. */
static struct dp_session *add_session(struct dp_workload *w, uint64_t start_ns, int open_loop,
                                      const struct dp_turn *turns,
                                      const struct dp_turn_link *links, uint32_t n_turns)
{
    if (!w->arena) {
        struct arena *a = calloc(1, sizeof *a);
        if (!a)
            return NULL;
        a->next_size = ARENA_FIRST_CHUNK;
        w->arena = a;
    }
    if (grow_sessions(w) != 0)
        return NULL;

    size_t n_hash = 0, n_deps = 0;
    for (uint32_t i = 0; i < n_turns; i++) {
        n_hash += turns[i].hash_ids ? turns[i].n_hash : 0;
        n_deps += links && links[i].deps ? links[i].n_deps : 0;
    }
    struct dp_turn *copy = NULL;
    struct dp_turn_link *lcopy = NULL;
    if (n_turns > 0) {
        size_t turn_bytes = align_up((size_t)n_turns * sizeof *copy);
        size_t link_bytes = links ? align_up((size_t)n_turns * sizeof *lcopy) : 0;
        size_t fixed = turn_bytes + link_bytes;
        if (n_hash > (SIZE_MAX - fixed) / 16 || n_deps > (SIZE_MAX - fixed) / 16)
            return NULL;
        copy = arena_alloc(w->arena, fixed + n_hash * sizeof(uint64_t) +
                                         n_deps * sizeof(uint32_t));
        if (!copy)
            return NULL;
        memcpy(copy, turns, (size_t)n_turns * sizeof *copy);
        unsigned char *p = (unsigned char *)copy + turn_bytes;
        if (links) {
            lcopy = (struct dp_turn_link *)p;
            memcpy(lcopy, links, (size_t)n_turns * sizeof *lcopy);
            p += link_bytes;
        }
        uint64_t *ids = (uint64_t *)p;
        for (uint32_t i = 0; i < n_turns; i++) {
            if (copy[i].n_hash == 0 || !turns[i].hash_ids) {
                copy[i].n_hash = 0;
                copy[i].hash_ids = NULL;
                continue;
            }
            memcpy(ids, turns[i].hash_ids, (size_t)copy[i].n_hash * sizeof *ids);
            copy[i].hash_ids = ids;
            ids += copy[i].n_hash;
        }
        uint32_t *deps = (uint32_t *)ids;   /* after the 8-byte ids: aligned */
        for (uint32_t i = 0; lcopy && i < n_turns; i++) {
            if (lcopy[i].n_deps == 0 || !links[i].deps) {
                lcopy[i].n_deps = 0;
                lcopy[i].deps = NULL;
                continue;
            }
            memcpy(deps, links[i].deps, (size_t)lcopy[i].n_deps * sizeof *deps);
            lcopy[i].deps = deps;
            deps += lcopy[i].n_deps;
        }
    }

    struct dp_session *s = &w->sessions[w->n_sessions];
    s->id = w->n_sessions;   /* default; readers overwrite with the file's id */
    s->start_ns = start_ns;
    s->n_turns = n_turns;
    s->open_loop = open_loop ? 1 : 0;
    s->turns = copy;
    s->links = lcopy;
    w->n_sessions++;
    return s;
}

struct dp_session *dp_workload_add(struct dp_workload *w, uint64_t start_ns,
                                   int open_loop, const struct dp_turn *turns,
                                   uint32_t n_turns)
{
    return add_session(w, start_ns, open_loop, turns, NULL, n_turns);
}

struct dp_session *dp_workload_add_dag(struct dp_workload *w, uint64_t start_ns,
                                       const struct dp_turn *turns,
                                       const struct dp_turn_link *links, uint32_t n_turns)
{
    return add_session(w, start_ns, 0, turns, links, n_turns);
}

size_t dp_workload_total_turns(const struct dp_workload *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->n_sessions; i++)
        n += w->sessions[i].n_turns;
    return n;
}
