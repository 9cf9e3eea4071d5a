/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* path.c - building file names into fixed buffers without silently cutting them */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/path.h"

int path_printf(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;
        int n;

        if (size == 0)
                return -ENAMETOOLONG;
        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= size) {
                buf[0] = 0;
                return -ENAMETOOLONG;
        }
        return 0;
}
