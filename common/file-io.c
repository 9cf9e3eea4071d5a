/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file-io.c - files the daemon keeps across crashes and restarts, replaced whole and durably */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/fd.h"
#include "common/file-io.h"
#include "common/path.h"

static int fsync_dir(const char *dir) {
        _cleanup_(closep) int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

static int write_all(int fd, const char *s) {
        for (size_t len = strlen(s); len > 0; ) {
                ssize_t w = write(fd, s, len);

                if (w < 0)
                        return -errno;
                s += w;
                len -= (size_t)w;
        }
        return 0;
}

int file_replace(const char *dir, const char *name, const char *text) {
        char path[PATH_MAX], tmp[PATH_MAX];
        _cleanup_(closep) int fd = -EBADF;
        int r;

        if (path_printf(path, sizeof(path), "%s/%s", dir, name) < 0 ||
            path_printf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) < 0)
                return -ENAMETOOLONG;
        if (!text) {
                if (unlink(path) < 0)
                        return errno == ENOENT ? 0 : -errno;
                return fsync_dir(dir);
        }
        /* systemd makes the directory (RuntimeDirectory=, StateDirectory=); by hand, we do. */
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, text);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        return fsync_dir(dir);
}

int fd_read_all(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0, alloc = 0;

        for (;;) {
                ssize_t n;

                if (size + 1 >= alloc) {
                        /* Grown as it fills, up to max bytes, one more to
                         * tell a bigger file, and the NUL. */
                        size_t next = alloc ? alloc * 2 : 4096;
                        char *b;

                        if (next > max + 2)
                                next = max + 2;
                        if (next <= alloc)
                                return -EFBIG;
                        b = xrealloc(buf, next);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        alloc = next;
                }
                n = read(fd, buf + size, alloc - size - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += (size_t)n;
                if (size > max)
                        return -EFBIG;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int file_read_all(const char *path, size_t max, char **ret) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return -errno;
        return fd_read_all(fd, max, ret, NULL);
}
