/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* macro.h - small language helpers shared by every layer (no I/O, no libraries) */
#pragma once

#include <stddef.h>
#include <stdlib.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _attribute_printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
        ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/*
 * Ownership transfer: returns the pointer and clears the variable, so that a
 * _cleanup_ handler on that variable no longer frees what was handed on.
 */
#define TAKE_PTR(p) __extension__({             \
                __typeof__(p) _take_ = (p);     \
                (p) = NULL;                     \
                _take_;                         \
        })

/*
 * Defines <func>p(type **) for use with _cleanup_: calls func() on a non-NULL
 * pointer. func must accept the object and return NULL (our x_free() shape).
 */
#define DEFINE_POINTER_CLEANUP(type, func)                      \
        static inline void func##p(type **p) {                  \
                if (*p)                                         \
                        *p = func(*p);                          \
        }

static inline void freep(void *p) {
        free(*(void **)p);
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}
