/* Growable arrays (grow.h). */
#include "base/grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/errors.h"

void *dp_grow(void *arr, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap && arr)
        return arr;
    size_t c = *cap ? *cap : (first ? first : 1);
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return NULL;
        c *= 2;
    }
    if (size && c > SIZE_MAX / size)
        return NULL;
    void *p = realloc(arr, c * size);
    if (!p)
        return NULL;
    *cap = c;
    return p;
}

int dp_grow_in(void *parr, size_t *cap, size_t need, size_t size, size_t first)
{
    void *arr;
    memcpy(&arr, parr, sizeof arr);   /* the caller's T *, without aliasing it as void * */
    void *p = dp_grow(arr, cap, need, size, first);
    if (!p)
        return DP_ENOMEM;
    memcpy(parr, &p, sizeof p);
    return 0;
}
