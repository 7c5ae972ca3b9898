/* Error codes and the error message buffer every fallible call fills.
 *
 * Convention (DESIGN.md): a function that can fail returns 0 or a negative
 * DP_E* code and writes one line into a struct dp_err naming the file, line
 * and field for input errors, so a front end can print it and exit. */
#ifndef DP_ERRORS_H
#define DP_ERRORS_H

#include <stddef.h>

enum {
    DP_OK = 0,
    DP_EINVAL = -1,   /* bad input: a value, a key, a type */
    DP_ENOENT = -2,   /* a file or a named thing is missing */
    DP_EIO = -3,      /* reading or writing failed */
    DP_ENOMEM = -4,   /* allocation failed */
    DP_ERANGE = -5,   /* a value outside its allowed range */
    DP_ESTATE = -6,   /* an operation in the wrong state (a bug or a fault) */
    DP_EINTR = -7,    /* interrupted by a signal */
    DP_ENODEV = -8,   /* a device or feature absent on this build/machine */
};

struct dp_err {
    char msg[512];
};

/* Write a message: "FILE:LINE: field 'F': what" style is up to the caller. */
int dp_err_set(struct dp_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *dp_strerror(int code);

#endif
