/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file-io.h - files the daemon keeps across crashes and restarts, replaced whole and durably */
#pragma once

/*
 * Makes dir/name hold text, durably when it returns 0: written to a
 * temporary file beside it, fsync()ed, renamed over the old one, and the
 * directory fsync()ed, so that a crash at any point leaves the old file or
 * the new one, never a part. text NULL: the file goes. dir is made (0700)
 * if missing. Not in libcommon: the core links that, and this does I/O.
 */
int file_replace(const char *dir, const char *name, const char *text);

/* The rest of fd, NUL-terminated, in *ret (owned by the caller), its
 * length in *ret_size (may be NULL); the buffer grows as it fills, so a
 * large max costs nothing for a small file. -EFBIG beyond max bytes. */
int fd_read_all(int fd, size_t max, char **ret, size_t *ret_size);

/* The whole of path (not followed if a symlink) as fd_read_all() reads it.
 * -ENOENT when there is none. */
int file_read_all(const char *path, size_t max, char **ret);
