/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* leak-check.h - LeakSanitizer's check at the end of each unit test */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

/*
 * Criterion runs each test in a child that ends with _exit(), so
 * LeakSanitizer's check at exit never runs there and a test that loses
 * memory would pass. A suite's .fini calls this once everything is freed.
 * Criterion ignores assertions in a .fini, so a leak aborts instead: the
 * test "crashed during its teardown", the executable exits 1, and
 * tests/test-summary.py counts a failure. Without ASan it checks nothing.
 */
static inline void check_leaks(void) {
#if defined(__SANITIZE_ADDRESS__)
        if (__lsan_do_recoverable_leak_check()) {
                fprintf(stderr, "teardown: LeakSanitizer found memory the test lost (above)\n");
                abort();
        }
#endif
}
