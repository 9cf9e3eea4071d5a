/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pagemap.h - a hash map from 64-bit keys (page numbers) to pointers */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Open addressing with linear probing and backward-shift deletion, so there
 * are no tombstones and lookups stay short. Values are borrowed pointers,
 * never NULL. The table doubles past 1/2 full; allocation goes through
 * xcalloc() so failure injection reaches it.
 */
typedef struct PageMapEntry {
        uint64_t key;
        void *value;            /* NULL: empty slot */
} PageMapEntry;

typedef struct PageMap {
        PageMapEntry *entries;  /* owned */
        size_t capacity;        /* 0 or a power of two */
        size_t count;
} PageMap;

#define PAGEMAP_INIT { NULL, 0, 0 }

void *pagemap_get(const PageMap *m, uint64_t key);
/* Inserts or replaces; -ENOMEM leaves the map as it was. */
int pagemap_put(PageMap *m, uint64_t key, void *value);
/* Returns the removed value, or NULL. */
void *pagemap_remove(PageMap *m, uint64_t key);
void pagemap_clear(PageMap *m);
