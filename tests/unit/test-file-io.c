/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-file-io.c - whole files read and replaced: sizes at and beyond the limit, the growing buffer */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file-io.h"

static char dir[] = "/tmp/test-file-io.XXXXXX";

static void dir_make(void) {
        cr_assert_not_null(mkdtemp(dir));
}

static void dir_remove(void) {
        char cmd[64];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
}

TestSuite(file_io, .init = dir_make, .fini = dir_remove);

/* A file of n bytes ('a' + i % 26), written by file_replace(). */
static char *write_file(size_t n, char **ret_path) {
        char *text = malloc(n + 1);

        cr_assert_not_null(text);
        for (size_t i = 0; i < n; i++)
                text[i] = (char)('a' + i % 26);
        text[n] = 0;
        cr_assert_eq(file_replace(dir, "f", text), 0);
        cr_assert_gt(asprintf(ret_path, "%s/f", dir), 0);
        return text;
}

Test(file_io, a_file_of_exactly_max_bytes_is_read_whole_past_the_first_buffer) {
        size_t n = 3 * 4096 + 17;       /* the buffer grows twice */
        char *path, *got = NULL, *want = write_file(n, &path);

        cr_assert_eq(file_read_all(path, n, &got), 0);
        cr_assert_eq(strlen(got), n);
        cr_assert_str_eq(got, want);
        free(got);
        free(want);
        free(path);
}

Test(file_io, one_byte_beyond_max_is_too_big_and_ret_is_left_alone) {
        char *path, *got = NULL, *want = write_file(4096, &path);

        cr_assert_eq(file_read_all(path, 4095, &got), -EFBIG);
        cr_assert_null(got);
        free(want);
        free(path);
}

Test(file_io, fd_read_all_reads_the_rest_of_an_fd_and_says_its_length) {
        char *path, *got = NULL, *want = write_file(100, &path);
        size_t size = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        cr_assert_geq(fd, 0);
        cr_assert_eq(lseek(fd, 10, SEEK_SET), 10);
        cr_assert_eq(fd_read_all(fd, 1000, &got, &size), 0);
        cr_assert_eq(size, 90);
        cr_assert_str_eq(got, want + 10);
        close(fd);
        free(got);
        free(want);
        free(path);
}

Test(file_io, an_empty_file_is_an_empty_string_and_a_missing_one_enoent) {
        char *path, *got = NULL, *want = write_file(0, &path);

        cr_assert_eq(file_read_all(path, 10, &got), 0);
        cr_assert_str_eq(got, "");
        free(got);
        cr_assert_eq(unlink(path), 0);
        got = NULL;
        cr_assert_eq(file_read_all(path, 10, &got), -ENOENT);
        cr_assert_null(got);
        free(want);
        free(path);
}
