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

/* The whole of path, NUL-terminated, in *ret (owned by the caller).
 * -ENOENT when there is none; -EFBIG beyond max bytes. */
int file_read_all(const char *path, size_t max, char **ret);
