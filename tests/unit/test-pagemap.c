/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-pagemap.c - the radix page table under the core's index and the sim's I/O page tables */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/pagemap.h"
#include "leak-check.h"

TestSuite(pagemap, .fini = check_leaks);

static void *val(uint64_t k) {
        return (void *)(uintptr_t)(k * 8 + 8);  /* never NULL */
}

Test(pagemap, put_get_replace_remove) {
        PageMap m = PAGEMAP_INIT;

        cr_assert_null(pagemap_get(&m, 5));
        cr_assert_eq(pagemap_put(&m, 5, val(5)), 0);
        cr_assert_eq(pagemap_get(&m, 5), val(5));
        cr_assert_eq(pagemap_put(&m, 5, val(6)), 0);
        cr_assert_eq(m.count, 1, "replacing does not count twice");
        cr_assert_eq(pagemap_remove(&m, 5), val(6));
        cr_assert_null(pagemap_remove(&m, 5));
        cr_assert_null(m.root, "the emptied nodes were freed");
        pagemap_clear(&m);
}

Test(pagemap, runs_far_apart_and_the_largest_keys) {
        PageMap m = PAGEMAP_INIT;
        /* Disjoint runs; the second crosses two leaf boundaries (1024, 1536). */
        const uint64_t bases[] = { 0, 1000, UINT64_C(0x7f0000000), UINT64_C(1) << 40,
                                   (UINT64_C(1) << 52) - 700 };

        for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
                for (uint64_t k = bases[b]; k < bases[b] + 600; k++)
                        cr_assert_eq(pagemap_put(&m, k, val(k)), 0);
        for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
                for (uint64_t k = bases[b]; k < bases[b] + 600; k++)
                        cr_assert_eq(pagemap_get(&m, k), val(k), "key %llu", (unsigned long long)k);
        cr_assert_null(pagemap_get(&m, 700));
        cr_assert_null(pagemap_get(&m, UINT64_C(0x7f0000000) - 1));
        /* Remove every other key, backwards, then the rest, forwards. */
        for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
                for (uint64_t k = bases[b] + 599; k + 1 > bases[b] && k >= bases[b]; k -= 2)
                        cr_assert_eq(pagemap_remove(&m, k), val(k));
        for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
                for (uint64_t k = bases[b]; k < bases[b] + 600; k++)
                        cr_assert_eq(pagemap_get(&m, k), (k - bases[b]) % 2 ? NULL : val(k));
        for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
                for (uint64_t k = bases[b]; k < bases[b] + 600; k += 2)
                        cr_assert_eq(pagemap_remove(&m, k), val(k));
        cr_assert_eq(m.count, 0);
        cr_assert_null(m.root, "all nodes freed as they emptied");
        pagemap_clear(&m);
}

Test(pagemap, the_leaf_cache_never_outlives_its_leaf) {
        PageMap m = PAGEMAP_INIT;

        cr_assert_eq(pagemap_put(&m, 1000, val(1000)), 0);
        cr_assert_eq(pagemap_get(&m, 1001), NULL);      /* caches the leaf */
        cr_assert_eq(pagemap_remove(&m, 1000), val(1000));
        cr_assert_null(m.leaf, "the freed leaf left the cache");
        cr_assert_eq(pagemap_put(&m, 1001, val(1001)), 0);
        cr_assert_eq(pagemap_get(&m, 1001), val(1001));
        pagemap_clear(&m);
        cr_assert_null(m.leaf);
}

Test(pagemap, no_memory_changes_nothing) {
        PageMap m = PAGEMAP_INIT;

        cr_assert_eq(pagemap_put(&m, 1, val(1)), 0);
        /* A key under a new top-level entry needs 5 new nodes; fail each. */
        for (long n = 0; n < 5; n++) {
                uint64_t key = (uint64_t)(n + 1) << 45;

                alloc_fail_after(n);
                cr_assert_eq(pagemap_put(&m, key, val(9)), -ENOMEM, "node %ld", n);
                alloc_fail_after(-1);
                cr_assert_null(pagemap_get(&m, key));
                cr_assert_eq(pagemap_get(&m, 1), val(1));
                cr_assert_eq(m.count, 1);
        }
        pagemap_clear(&m);
}
