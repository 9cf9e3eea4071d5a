/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pagemap.h - a page table: 64-bit page numbers to pointers, as a radix tree */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Six levels of 512 entries cover page numbers of up to 54 bits (any 64-bit
 * address in 4 KiB pages). Lookup, insert and removal take six steps whatever
 * the contents; consecutive pages share a leaf, so runs of pages (how faults
 * and mappings come) stay in a few cache lines. Empty nodes are freed as
 * they empty. Values are borrowed pointers, never NULL. Nodes come from
 * xcalloc(), so failure injection reaches them.
 */
#define PAGEMAP_LEVELS 6
#define PAGEMAP_BITS 9
#define PAGEMAP_FANOUT (1u << PAGEMAP_BITS)

typedef struct PageMapNode PageMapNode;

typedef struct PageMap {
        PageMapNode *root;      /* owned; NULL when empty */
        size_t count;
        /* The last leaf used and the key bits above its index: runs of pages
         * skip the walk. A cache only: lookups update it through a const map. */
        PageMapNode *leaf;      /* borrowed from the tree; NULL: none */
        uint64_t leaf_prefix;
} PageMap;

#define PAGEMAP_INIT { NULL, 0, NULL, 0 }

void *pagemap_get(const PageMap *m, uint64_t key);
/* Inserts or replaces; -ENOMEM leaves every key's value as it was. */
int pagemap_put(PageMap *m, uint64_t key, void *value);
/* Returns the removed value, or NULL. */
void *pagemap_remove(PageMap *m, uint64_t key);
void pagemap_clear(PageMap *m);
