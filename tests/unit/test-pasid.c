/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-pasid.c - the PASID allocator over 1..2^20-1 */
#include <criterion/criterion.h>
#include <errno.h>

#include "daemon/core/pasid.h"
#include "common/alloc.h"
#include "leak-check.h"

static PasidPool *pool;

static void setup(void) {
        cr_assert_eq(pasid_pool_new(&pool), 0);
}

static void teardown(void) {
        pool = pasid_pool_free(pool);
        check_leaks();
}

TestSuite(pasid, .init = setup, .fini = teardown);

Test(pasid, allocates_lowest_free_starting_at_one) {
        uint32_t a, b, c;

        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &a), 0);
        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &b), 0);
        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &c), 0);
        cr_assert_eq(a, 1, "PASID 0 is the RID and must never be handed out");
        cr_assert_eq(b, 2);
        cr_assert_eq(c, 3);
        cr_assert_eq(pasid_pool_release(pool, b), 0);
        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &b), 0);
        cr_assert_eq(b, 2, "a freed PASID is reused lowest first");
        cr_assert_eq(pasid_pool_count(pool), 3);
}

Test(pasid, whole_space_is_exactly_one_to_two_pow_20_minus_one) {
        uint32_t p, expect = 1;

        while (pasid_pool_alloc(pool, PASID_MAX + 1, &p) == 0) {
                cr_assert_eq(p, expect, "expected %u got %u", expect, p);
                expect++;
        }
        cr_assert_eq(expect - 1, PASID_MAX, "allocated %u PASIDs", expect - 1);
        cr_assert_eq(pasid_pool_count(pool), PASID_MAX);
        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &p), -ENOSPC);

        /* Free one deep inside and at the very top: both come back. */
        cr_assert_eq(pasid_pool_release(pool, 777777), 0);
        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &p), 0);
        cr_assert_eq(p, 777777);
        cr_assert_eq(pasid_pool_release(pool, PASID_MAX), 0);
        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &p), 0);
        cr_assert_eq(p, PASID_MAX);
}

Test(pasid, limit_refuses_when_lowest_free_is_too_high) {
        uint32_t p;

        for (int i = 0; i < 3; i++)
                cr_assert_eq(pasid_pool_alloc(pool, 4, &p), 0);
        cr_assert_eq(p, 3);
        cr_assert_eq(pasid_pool_alloc(pool, 4, &p), -ENOSPC, "max_pasids 4 allows 1..3 only");
        cr_assert_eq(pasid_pool_count(pool), 3, "a refused allocation takes nothing");
        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &p), 0);
        cr_assert_eq(p, 4);
}

Test(pasid, range_gives_the_lowest_free_at_or_above_its_start) {
        uint32_t p;

        cr_assert_eq(pasid_pool_alloc_range(pool, 65536, PASID_MAX + 1, &p), 0);
        cr_assert_eq(p, 65536);
        cr_assert_eq(pasid_pool_alloc_range(pool, 0, 4, &p), 0);
        cr_assert_eq(p, 1, "0 is the RID, never handed out");
        cr_assert_eq(pasid_pool_alloc_range(pool, 65536, PASID_MAX + 1, &p), 0);
        cr_assert_eq(p, 65537);
        cr_assert_eq(pasid_pool_alloc_range(pool, 4, 4, &p), -ENOSPC, "an empty range");
        cr_assert_eq(pasid_pool_alloc_range(pool, 70, 71, &p), 0);
        cr_assert_eq(p, 70);
        cr_assert_eq(pasid_pool_alloc_range(pool, 70, 71, &p), -ENOSPC, "a full range takes nothing");
        cr_assert_eq(pasid_pool_count(pool), 4);
}

Test(pasid, range_skips_full_words_at_every_level) {
        uint32_t p, start = 64 * 64 * 3 + 5;    /* inside the 4th mid word's span */

        /* Fill from start to the end of two whole mid words and a bit more. */
        for (uint32_t i = start; i < 64 * 64 * 6 + 7; i++) {
                cr_assert_eq(pasid_pool_alloc_range(pool, start, PASID_MAX + 1, &p), 0);
                cr_assert_eq(p, i, "expected %u got %u", i, p);
        }
        cr_assert_eq(pasid_pool_release(pool, 64 * 64 * 5 + 9), 0);
        cr_assert_eq(pasid_pool_alloc_range(pool, start, PASID_MAX + 1, &p), 0);
        cr_assert_eq(p, 64 * 64 * 5 + 9, "the one hole is found past full words");
        cr_assert_eq(pasid_pool_alloc_range(pool, start, PASID_MAX + 1, &p), 0);
        cr_assert_eq(p, 64 * 64 * 6 + 7);
        cr_assert_eq(pasid_pool_alloc_range(pool, PASID_MAX, PASID_MAX + 1, &p), 0);
        cr_assert_eq(p, PASID_MAX);
        cr_assert_eq(pasid_pool_alloc_range(pool, PASID_MAX, PASID_MAX + 1, &p), -ENOSPC);
}

Test(pasid, release_rejects_zero_out_of_range_and_double_free) {
        uint32_t p;

        cr_assert_eq(pasid_pool_release(pool, 0), -EINVAL);
        cr_assert_eq(pasid_pool_release(pool, PASID_MAX + 1), -EINVAL);
        cr_assert_eq(pasid_pool_release(pool, 5), -EINVAL);
        cr_assert_eq(pasid_pool_alloc(pool, PASID_MAX + 1, &p), 0);
        cr_assert_eq(pasid_pool_release(pool, p), 0);
        cr_assert_eq(pasid_pool_release(pool, p), -EINVAL);
        cr_assert_eq(pasid_pool_count(pool), 0);
        cr_assert_not(pasid_pool_is_allocated(pool, 0));
}

Test(pasid, whole_space_fits_in_160_kib) {
        cr_assert_leq(pasid_pool_memory_size(), 160 * 1024,
                      "pool takes %zu bytes", pasid_pool_memory_size());
}

Test(pasid, new_fails_cleanly_without_memory) {
        PasidPool *p = NULL;

        alloc_fail_after(0);
        cr_assert_eq(pasid_pool_new(&p), -ENOMEM);
        cr_assert_null(p, "ret untouched on failure");
        alloc_fail_after(-1);
}
