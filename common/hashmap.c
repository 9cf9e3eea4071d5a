/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hashmap.c - inserting, removing and growing the intrusive hash map */
#include "alloc.h"
#include "hashmap.h"

/* The finalizer of splitmix64: every input bit moves every output bit, so
 * sequential ids and PCI addresses spread over the low bits we mask with. */
uint64_t hash_u64(uint64_t key) {
        key ^= key >> 30;
        key *= 0xbf58476d1ce4e5b9ULL;
        key ^= key >> 27;
        key *= 0x94d049bb133111ebULL;
        key ^= key >> 31;
        return key;
}

/* FNV-1a over the bytes, then mixed: names differ mostly in their last
 * characters ("0000:03:00.1"), which FNV alone leaves in the high bits. */
uint64_t hash_string(const char *s) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 0x100000001b3ULL;
        }
        return hash_u64(h);
}

static size_t bucket_count(const HashMap *m) {
        return m->n_buckets ? m->n_buckets : HASHMAP_INLINE_BUCKETS;
}

/* Doubles the bucket array; on allocation failure the map keeps its own. */
static void hashmap_grow(HashMap *m) {
        size_t old_n = bucket_count(m), new_n = old_n * 2;
        HashNode **old = m->buckets ? m->buckets : m->inline_buckets;
        HashNode **v = xcalloc(new_n, sizeof(*v));

        if (!v)
                return;
        for (size_t i = 0; i < old_n; i++)
                while (old[i]) {
                        HashNode *n = old[i];

                        old[i] = n->next;
                        n->next = v[n->hash & (new_n - 1)];
                        v[n->hash & (new_n - 1)] = n;
                }
        if (m->buckets)
                free(m->buckets);
        m->buckets = v;
        m->n_buckets = new_n;
}

void hashmap_put(HashMap *m, HashNode *n, uint64_t hash) {
        HashNode **head;

        if (m->count >= bucket_count(m))
                hashmap_grow(m);
        head = hashmap_bucket(m, hash);
        n->hash = hash;
        n->next = *head;
        *head = n;
        m->count++;
}

void hashmap_remove(HashMap *m, HashNode *n) {
        for (HashNode **p = hashmap_bucket(m, n->hash); *p; p = &(*p)->next) {
                m->probes++;
                if (*p == n) {
                        *p = n->next;
                        n->next = NULL;
                        m->count--;
                        return;
                }
        }
}

void hashmap_clear(HashMap *m) {
        free(m->buckets);
        *m = (HashMap) { .buckets = NULL };
}
