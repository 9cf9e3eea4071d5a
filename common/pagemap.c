/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pagemap.c - a page table: 64-bit page numbers to pointers, as a radix tree */
#include <errno.h>
#include <stdlib.h>

#include "alloc.h"
#include "pagemap.h"

struct PageMapNode {
        void *slot[PAGEMAP_FANOUT];     /* child nodes, or values at the last level */
        unsigned used;                  /* non-NULL slots */
};

static unsigned index_at(uint64_t key, unsigned level) {
        return (unsigned)(key >> ((PAGEMAP_LEVELS - 1 - level) * PAGEMAP_BITS)) & (PAGEMAP_FANOUT - 1);
}

static void remember_leaf(const PageMap *m, PageMapNode *leaf, uint64_t key) {
        PageMap *mm = (PageMap *)m;     /* the cache is not the map's value */

        mm->leaf = leaf;
        mm->leaf_prefix = key >> PAGEMAP_BITS;
}

void *pagemap_get(const PageMap *m, uint64_t key) {
        PageMapNode *n = m->root;

        if (m->leaf && m->leaf_prefix == key >> PAGEMAP_BITS)
                return m->leaf->slot[key & (PAGEMAP_FANOUT - 1)];
        for (unsigned level = 0; n && level < PAGEMAP_LEVELS - 1; level++)
                n = n->slot[index_at(key, level)];
        if (!n)
                return NULL;
        remember_leaf(m, n, key);
        return n->slot[index_at(key, PAGEMAP_LEVELS - 1)];
}

int pagemap_put(PageMap *m, uint64_t key, void *value) {
        PageMapNode **p = &m->root, *n = NULL;
        unsigned i;

        if (m->leaf && m->leaf_prefix == key >> PAGEMAP_BITS) {
                n = m->leaf;
                i = key & (PAGEMAP_FANOUT - 1);
                goto store;
        }
        for (unsigned level = 0;; level++) {
                if (!*p) {
                        /* An empty node left by a failure here is harmless:
                         * it holds nothing and goes with pagemap_clear(). */
                        *p = xcalloc(1, sizeof(PageMapNode));
                        if (!*p)
                                return -ENOMEM;
                        if (level > 0)
                                n->used++;
                }
                n = *p;
                i = index_at(key, level);
                if (level == PAGEMAP_LEVELS - 1)
                        break;
                p = (PageMapNode **)&n->slot[i];
        }
        remember_leaf(m, n, key);
store:
        if (!n->slot[i]) {
                n->used++;
                m->count++;
        }
        n->slot[i] = value;
        return 0;
}

void *pagemap_remove(PageMap *m, uint64_t key) {
        PageMapNode **path[PAGEMAP_LEVELS];
        PageMapNode **p = &m->root;
        void *value;
        unsigned i;

        for (unsigned level = 0; level < PAGEMAP_LEVELS; level++) {
                if (!*p)
                        return NULL;
                path[level] = p;
                if (level < PAGEMAP_LEVELS - 1)
                        p = (PageMapNode **)&(*p)->slot[index_at(key, level)];
        }
        i = index_at(key, PAGEMAP_LEVELS - 1);
        value = (*path[PAGEMAP_LEVELS - 1])->slot[i];
        if (!value)
                return NULL;
        (*path[PAGEMAP_LEVELS - 1])->slot[i] = NULL;
        m->count--;
        /* Free the nodes this emptied, from the leaf up. */
        for (int level = PAGEMAP_LEVELS - 1; level >= 0; level--) {
                PageMapNode *n = *path[level];

                if (--n->used > 0)
                        break;
                if (n == m->leaf)
                        m->leaf = NULL;
                free(n);
                *path[level] = NULL;
        }
        return value;
}

static void free_node(PageMapNode *n, unsigned level) {
        if (!n)
                return;
        if (level < PAGEMAP_LEVELS - 1)
                for (unsigned i = 0; i < PAGEMAP_FANOUT; i++)
                        free_node(n->slot[i], level + 1);
        free(n);
}

void pagemap_clear(PageMap *m) {
        free_node(m->root, 0);
        *m = (PageMap) PAGEMAP_INIT;
}
