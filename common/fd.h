/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fd.h - closing file descriptors, and closing them by cleanup (_cleanup_(closep)) */
#pragma once

#include <errno.h>
#include <unistd.h>

/*
 * Header-only on purpose: close() is I/O, and libiommud-common.a, which the
 * pure core links, must not call it (tests/unit/check-core-purity). Only the
 * parts that own file descriptors (iommuctl, the policy loader) include this;
 * daemon/core and the .c files of common/ never do.
 */

/* Closes fd if it is one (>= 0), keeping errno; returns -EBADF for "fd = safe_close(fd)". */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved_errno = errno;

                close(fd);
                errno = saved_errno;
        }
        return -EBADF;
}

/* For _cleanup_(closep) int fd = -EBADF: the variable owns the fd until TAKE_FD(). */
static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}

/* Ownership transfer of an fd out of a _cleanup_(closep) variable. */
#define TAKE_FD(fd) __extension__({             \
                int _fd_ = (fd);                \
                (fd) = -EBADF;                  \
                _fd_;                           \
        })
