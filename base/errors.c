#include "base/errors.h"

#include <stdarg.h>
#include <stdio.h>

int dp_err_set(struct dp_err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *dp_strerror(int code)
{
    switch (code) {
    case DP_OK: return "ok";
    case DP_EINVAL: return "invalid input";
    case DP_ENOENT: return "not found";
    case DP_EIO: return "I/O error";
    case DP_ENOMEM: return "out of memory";
    case DP_ERANGE: return "value out of range";
    case DP_ESTATE: return "invalid state";
    case DP_EINTR: return "interrupted";
    case DP_ENODEV: return "no such device";
    }
    return "unknown error";
}
