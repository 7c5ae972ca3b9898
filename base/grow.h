/* Growable arrays: one helper for every "append to a heap array, doubling
 * its capacity" in the project.
 *
 *     struct thing *t = dp_grow(a->items, &a->cap, a->n + 1, sizeof *t, 256);
 *     if (!t)
 *         return DP_ENOMEM;
 *     a->items = t;
 *     a->items[a->n++] = ...;
 *
 * The owner of the array frees it with free(). */
#ifndef DP_BASE_GROW_H
#define DP_BASE_GROW_H

#include <stddef.h>

/* The array `arr` (capacity *cap elements of `size` bytes) with room for at
 * least `need` elements: returned as is when it has, else reallocated with
 * *cap doubled (from `first` when 0) until it does. NULL when out of memory
 * or on size overflow; arr and *cap are then unchanged (arr still owned by
 * the caller). */
void *dp_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first);

/* The same in place, for several arrays in one condition:
 *
 *     if (DP_GROW(d->rows, d->cap_rows, d->n + 1, 64) ||
 *         DP_GROW(d->ids, d->cap_ids, d->n_ids + k, 64))
 *         return DP_ENOMEM;
 *
 * arr is a pointer lvalue, cap a size_t lvalue; evaluates to 0 or DP_ENOMEM
 * (then arr and cap are unchanged). */
#define DP_GROW(arr, cap, need, first) \
    dp_grow_in((void *)&(arr), &(cap), (need), sizeof *(arr), (first))
int dp_grow_in(void *parr, size_t *cap, size_t need, size_t size, size_t first);

#endif
