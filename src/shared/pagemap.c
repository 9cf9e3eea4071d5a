/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pagemap.c - a hash map from 64-bit keys (page numbers) to pointers */
#include <errno.h>
#include <stdlib.h>

#include "alloc.h"
#include "pagemap.h"

/*
 * Consecutive pages land in consecutive slots (four to a cache line), as
 * page faults and mappings mostly come in runs; the higher bits are folded
 * in so that runs far apart, and strides of the table size, spread out.
 */
static size_t slot_of(const PageMap *m, uint64_t key) {
        key ^= (key >> 16) * UINT64_C(0x9E3779B97F4A7C15) >> 40;
        key ^= key >> 40;
        return (size_t)key & (m->capacity - 1);
}

void *pagemap_get(const PageMap *m, uint64_t key) {
        if (m->count == 0)
                return NULL;
        for (size_t i = slot_of(m, key);; i = (i + 1) & (m->capacity - 1)) {
                if (!m->entries[i].value)
                        return NULL;
                if (m->entries[i].key == key)
                        return m->entries[i].value;
        }
}

static void insert_fresh(PageMapEntry *entries, size_t capacity, const PageMapEntry *e) {
        PageMap tmp = { entries, capacity, 0 };
        size_t i = slot_of(&tmp, e->key);

        while (entries[i].value)
                i = (i + 1) & (capacity - 1);
        entries[i] = *e;
}

static int grow(PageMap *m) {
        size_t n = m->capacity ? m->capacity * 2 : 64;
        PageMapEntry *e = xcalloc(n, sizeof(*e));

        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < m->capacity; i++)
                if (m->entries[i].value)
                        insert_fresh(e, n, &m->entries[i]);
        free(m->entries);
        m->entries = e;
        m->capacity = n;
        return 0;
}

int pagemap_put(PageMap *m, uint64_t key, void *value) {
        size_t i;

        if ((m->count + 1) * 2 > m->capacity) {
                int r = grow(m);
                if (r < 0)
                        return r;
        }
        for (i = slot_of(m, key); m->entries[i].value; i = (i + 1) & (m->capacity - 1))
                if (m->entries[i].key == key) {
                        m->entries[i].value = value;
                        return 0;
                }
        m->entries[i] = (PageMapEntry) { key, value };
        m->count++;
        return 0;
}

void *pagemap_remove(PageMap *m, uint64_t key) {
        size_t mask = m->capacity - 1, i, j;
        void *value;

        if (m->count == 0)
                return NULL;
        for (i = slot_of(m, key); m->entries[i].key != key || !m->entries[i].value; i = (i + 1) & mask)
                if (!m->entries[i].value)
                        return NULL;
        value = m->entries[i].value;
        /* Backward shift: pull later members of the probe run into the hole. */
        for (j = (i + 1) & mask; m->entries[j].value; j = (j + 1) & mask) {
                size_t home = slot_of(m, m->entries[j].key);

                if (((j - home) & mask) >= ((j - i) & mask)) {
                        m->entries[i] = m->entries[j];
                        i = j;
                }
        }
        m->entries[i].value = NULL;
        m->count--;
        return value;
}

void pagemap_clear(PageMap *m) {
        free(m->entries);
        *m = (PageMap) PAGEMAP_INIT;
}
