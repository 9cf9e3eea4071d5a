/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-common.c - the small helpers of common/: string vectors, digit checks, list and hash lookups, fds */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/fd.h"
#include "common/hashmap.h"
#include "common/list.h"
#include "common/string-util.h"
#include "common/strv.h"
#include "common/utf8.h"
#include "leak-check.h"

TestSuite(strv, .fini = check_leaks);
TestSuite(string_util, .fini = check_leaks);
TestSuite(list, .fini = check_leaks);
TestSuite(hashmap, .fini = check_leaks);
TestSuite(fd, .fini = check_leaks);
TestSuite(utf8, .fini = check_leaks);

Test(strv, consume_and_join) {
        _cleanup_(strv_freep) char **l = NULL;
        _cleanup_(freep) char *empty = NULL, *one = NULL, *all = NULL;

        empty = strv_join(l, ",");
        cr_assert_str_eq(empty, "", "NULL is the empty vector");
        cr_assert_eq(strv_consume(&l, xstrdup("a")), 0);
        one = strv_join(l, ", ");
        cr_assert_str_eq(one, "a");
        cr_assert_eq(strv_consume(&l, xstrdup("bc")), 0);
        cr_assert_eq(strv_consume(&l, xstrdup("")), 0);
        cr_assert_eq(strv_consume(&l, xstrdup("d")), 0);
        all = strv_join(l, ", ");
        cr_assert_str_eq(all, "a, bc, , d");
        cr_assert_null(l[4]);
}

Test(strv, consume_fails_cleanly) {
        _cleanup_(strv_freep) char **l = NULL;

        cr_assert_eq(strv_consume(&l, xstrdup("a")), 0);
        alloc_fail_after(1);    /* xstrdup() succeeds, the vector's growth fails */
        cr_assert_eq(strv_consume(&l, xstrdup("b")), -ENOMEM,
                     "the string is freed on failure (ASan would see a leak)");
        alloc_fail_after(-1);
        cr_assert_str_eq(l[0], "a");
        cr_assert_null(l[1], "the vector is as it was");
        alloc_fail_after(0);
        cr_assert_null(strv_join(l, ","));
        alloc_fail_after(-1);
}

Test(string_util, all_digits) {
        cr_assert(all_digits("0"));
        cr_assert(all_digits("0123456789"));
        cr_assert_not(all_digits(""));
        cr_assert_not(all_digits("-1"));
        cr_assert_not(all_digits("+1"));
        cr_assert_not(all_digits(" 1"));
        cr_assert_not(all_digits("1 "));
        cr_assert_not(all_digits("0x1"));
        cr_assert_not(all_digits("1.5"));
}

typedef struct Item {
        unsigned id;
        ListNode link;
} Item;

Test(list, find_entry) {
        Item items[4] = { { .id = 7 }, { .id = 3 }, { .id = 7 }, { .id = 9 } };
        ListNode head;

        list_init(&head);
        cr_assert_null(list_find_entry(Item, i, &head, link, i->id == 7), "empty list");
        for (size_t k = 0; k < ELEMENTSOF(items); k++)
                list_add_tail(&head, &items[k].link);
        cr_assert_eq(list_find_entry(Item, i, &head, link, i->id == 7), &items[0],
                     "the first match");
        cr_assert_eq(list_find_entry(Item, i, &head, link, i->id == 9), &items[3],
                     "the last entry");
        cr_assert_null(list_find_entry(Item, i, &head, link, i->id == 4));
}

typedef struct Named {
        char name[16];
        unsigned n;
        HashNode node;
} Named;

static Named *named_find(HashMap *m, const char *name) {
        return hashmap_find_entry(Named, x, m, node, hash_string(name), strcmp(x->name, name) == 0);
}

Test(hashmap, put_find_remove_and_the_first_of_equal_keys) {
        Named a = { .name = "a", .n = 1 }, b = { .name = "b", .n = 2 }, a2 = { .name = "a", .n = 3 };
        HashMap m = { .buckets = NULL };

        cr_assert_null(named_find(&m, "a"), "empty map");
        hashmap_put(&m, &a.node, hash_string(a.name));
        hashmap_put(&m, &b.node, hash_string(b.name));
        cr_assert_eq(named_find(&m, "a"), &a);
        cr_assert_eq(named_find(&m, "b"), &b);
        cr_assert_null(named_find(&m, "c"));
        hashmap_put(&m, &a2.node, hash_string(a2.name));
        cr_assert_eq(m.count, 3);
        hashmap_remove(&m, &a.node);
        cr_assert_eq(named_find(&m, "a"), &a2, "the other entry of that key is still found");
        hashmap_remove(&m, &a.node);
        cr_assert_eq(m.count, 2, "removing what is not filed changes nothing");
        hashmap_remove(&m, &a2.node);
        hashmap_remove(&m, &b.node);
        cr_assert_eq(m.count, 0);
        cr_assert_null(named_find(&m, "b"));
        hashmap_clear(&m);
}

/* 16,384 entries with keys like the PCI addresses of a large host: every
 * one is found after the array grew, and the average lookup looks at about
 * one node (a walk would look at 8,192). */
Test(hashmap, grows_and_a_lookup_looks_at_about_one_node) {
        enum { N = 16384 };
        Named *v = calloc(N, sizeof(*v));
        HashMap m = { .buckets = NULL };
        uint64_t worst = 0;

        cr_assert_not_null(v);
        for (unsigned i = 0; i < N; i++) {
                snprintf(v[i].name, sizeof(v[i].name), "0000:%02x:%02x.%u", i >> 8, (i >> 3) & 0x1f, i & 7);
                hashmap_put(&m, &v[i].node, hash_string(v[i].name));
        }
        cr_assert_geq(m.n_buckets, N, "the bucket array grew with the entries");
        m.probes = 0;
        for (unsigned i = 0; i < N; i++) {
                uint64_t before = m.probes;

                cr_assert_eq(named_find(&m, v[i].name), &v[i], "%s", v[i].name);
                if (m.probes - before > worst)
                        worst = m.probes - before;
        }
        cr_assert_geq(m.probes, N, "every lookup went through the index");
        cr_assert_leq(m.probes, 2 * N, "%llu probes for %d lookups", (unsigned long long)m.probes, N);
        cr_assert_leq(worst, 16, "the longest chain looked at: %llu", (unsigned long long)worst);
        for (unsigned i = 0; i < N; i += 2)
                hashmap_remove(&m, &v[i].node);
        cr_assert_eq(m.count, N / 2);
        cr_assert_null(named_find(&m, v[0].name));
        cr_assert_eq(named_find(&m, v[1].name), &v[1]);
        hashmap_clear(&m);
        free(v);
}

/* A failed growth keeps the map as it was: every entry is still found. */
Test(hashmap, growth_that_cannot_allocate_keeps_every_entry) {
        Named v[HASHMAP_INLINE_BUCKETS + 1];
        HashMap m = { .buckets = NULL };
        unsigned long injected = alloc_failures_injected();

        /* The last put is the one that grows, and its allocation fails. */
        for (unsigned i = 0; i < ELEMENTSOF(v); i++) {
                snprintf(v[i].name, sizeof(v[i].name), "n%u", i);
                if (i == HASHMAP_INLINE_BUCKETS)
                        alloc_fail_after(0);
                hashmap_put(&m, &v[i].node, hash_string(v[i].name));
        }
        alloc_fail_after(-1);
        cr_assert_eq(alloc_failures_injected(), injected + 1, "the growth was tried");
        cr_assert_eq(m.n_buckets, 0, "still the buckets inside the map");
        cr_assert_eq(m.count, ELEMENTSOF(v));
        for (unsigned i = 0; i < ELEMENTSOF(v); i++)
                cr_assert_eq(named_find(&m, v[i].name), &v[i]);
        hashmap_clear(&m);
}

Test(fd, closep_and_take_fd) {
        int kept;

        {
                _cleanup_(closep) int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

                cr_assert_geq(fd, 0);
                kept = TAKE_FD(fd);
                cr_assert_eq(fd, -EBADF);
        }
        cr_assert_geq(fcntl(kept, F_GETFD), 0, "TAKE_FD() kept it open");
        {
                _cleanup_(closep) int fd = kept;
        }
        cr_assert_lt(fcntl(kept, F_GETFD), 0, "closep() closed it");
        errno = EPERM;
        cr_assert_eq(safe_close(-EBADF), -EBADF);
        cr_assert_eq(errno, EPERM, "safe_close() keeps errno");
}

Test(utf8, char_len_follows_the_rules_dbus_applies) {
        cr_assert_eq(utf8_char_len("a", 1), 1);
        cr_assert_eq(utf8_char_len("\xc3\xa9", 2), 2, "e acute");
        cr_assert_eq(utf8_char_len("\xe2\x82\xac", 3), 3, "euro sign");
        cr_assert_eq(utf8_char_len("\xf0\x9f\x98\x80", 4), 4, "an emoji");
        cr_assert_eq(utf8_char_len("\xc3\xa9", 1), 0, "cut short");
        cr_assert_eq(utf8_char_len("\xf0\x9f\x98", 3), 0, "cut short");
        cr_assert_eq(utf8_char_len("\xa9", 1), 0, "a stray continuation byte");
        cr_assert_eq(utf8_char_len("\xc0\xaf", 2), 0, "overlong '/'");
        cr_assert_eq(utf8_char_len("\xe0\x80\xaf", 3), 0, "overlong '/'");
        cr_assert_eq(utf8_char_len("\xed\xa0\x80", 3), 0, "a surrogate");
        cr_assert_eq(utf8_char_len("\xf4\x90\x80\x80", 4), 0, "beyond U+10FFFF");
        cr_assert_eq(utf8_char_len("\xff", 1), 0);
        cr_assert_eq(utf8_char_len("\xc3" "a", 2), 0, "no continuation");
        cr_assert_eq(utf8_char_len("", 0), 0);
        cr_assert_eq(utf8_valid_prefix("ab\xc3\xa9\xc3", 5), 4);
        cr_assert_eq(utf8_valid_prefix("ab\xff" "cd", 5), 2);
}

/* Issue 10, finding 7: a 1024-byte message buffer cut a two-byte character
 * in half, sd-bus refused the reply and the caller waited for its timeout. */
Test(utf8, a_cut_never_splits_a_character_at_any_length) {
        char in[1400], buf[64];

        for (size_t chars = 0; chars < 600; chars++) {
                size_t o = 0;

                for (size_t i = 0; i < chars; i++)
                        o += (size_t)sprintf(in + o, "\xc3\xa9");
                for (size_t size = 4; size <= sizeof(buf); size++) {
                        int n = snprintf(buf, size, "x%s", in);
                        size_t len = utf8_cut(buf, size, (size_t)n >= size);

                        cr_assert_lt(len, size);
                        cr_assert_eq(strlen(buf), len);
                        cr_assert_eq(utf8_valid_prefix(buf, len), len, "%zu chars into %zu bytes: "
                                     "not valid UTF-8", chars, size);
                        if ((size_t)n < size)
                                cr_assert_eq(len, (size_t)n, "what fits is kept whole");
                        else
                                cr_assert_str_eq(buf + len - 3, "...", "a cut is marked");
                }
        }
}

Test(utf8, a_cut_drops_bad_bytes_and_marks_it) {
        char buf[16] = "ok\xff rest";

        cr_assert_eq(utf8_cut(buf, sizeof(buf), false), 5);
        cr_assert_str_eq(buf, "ok...");
        strcpy(buf, "all fine \xe2\x82\xac");
        cr_assert_eq(utf8_cut(buf, sizeof(buf), false), 12, "valid and whole: unchanged");
        cr_assert_str_eq(buf, "all fine \xe2\x82\xac");
}
