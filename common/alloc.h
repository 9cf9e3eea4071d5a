/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* alloc.h - allocation wrappers with a failure-injection hook for tests */
#pragma once

#include <stddef.h>

/*
 * Every allocation of the core goes through these, so that tests can make
 * the N-th next allocation fail (alloc_fail_after(N)) and check that each
 * failure path leaves the model as it was. alloc_fail_after(-1) disarms it.
 * The hook is process-global and meant for single-threaded tests only.
 */
void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);

void alloc_fail_after(long n);
unsigned long alloc_failures_injected(void);
