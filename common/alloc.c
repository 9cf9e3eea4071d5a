/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* alloc.c - allocation wrappers with a failure-injection hook for tests */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static long fail_countdown = -1;
static unsigned long failures_injected;

void alloc_fail_after(long n) {
        fail_countdown = n;
}

unsigned long alloc_failures_injected(void) {
        return failures_injected;
}

/* True when this allocation is the one a test asked to fail. */
static int should_fail(void) {
        if (fail_countdown < 0)
                return 0;
        if (fail_countdown-- > 0)
                return 0;
        failures_injected++;
        return 1;
}

void *xmalloc(size_t size) {
        return should_fail() ? NULL : malloc(size ? size : 1);
}

void *xzalloc(size_t size) {
        return should_fail() ? NULL : calloc(1, size ? size : 1);
}

void *xcalloc(size_t n, size_t size) {
        return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *xrealloc(void *p, size_t size) {
        return should_fail() ? NULL : realloc(p, size ? size : 1);
}

char *xstrdup(const char *s) {
        return should_fail() ? NULL : strdup(s);
}
