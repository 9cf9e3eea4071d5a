/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hashmap.h - an intrusive chained hash map: the index behind every lookup by key */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/*
 * A HashNode is embedded in the object it indexes, next to the key it is
 * filed under; the map owns only its bucket array, never the objects. The
 * caller computes the hash (hash_u64(), hash_string()) and compares keys
 * itself (hashmap_find_entry()), so one map type serves every key.
 *
 * A zeroed HashMap is empty and usable: the first buckets are inside the
 * map, so an insert never fails. The array doubles once there are more
 * entries than buckets; if that allocation fails the map goes on with the
 * buckets it has (longer chains, still correct), which is why nothing that
 * files an object in an index needs an error path.
 *
 * probes counts the nodes that lookups and removals looked at, so tests can
 * check that a lookup does not walk (a count, not a time).
 */
typedef struct HashNode {
        struct HashNode *next;  /* borrowed: the next node of the same bucket */
        uint64_t hash;
} HashNode;

#define HASHMAP_INLINE_BUCKETS 8

typedef struct HashMap {
        HashNode **buckets;     /* owned; NULL: inline_buckets */
        size_t n_buckets;       /* a power of two; 0: HASHMAP_INLINE_BUCKETS */
        size_t count;
        uint64_t probes;        /* nodes visited by lookups and removals, for tests */
        HashNode *inline_buckets[HASHMAP_INLINE_BUCKETS];
} HashMap;

uint64_t hash_u64(uint64_t key);
uint64_t hash_string(const char *s);

/* Files n under hash. The caller keeps keys unique (a lookup finds the first). */
void hashmap_put(HashMap *m, HashNode *n, uint64_t hash);
/* Unfiles n; a node that is not in the map (or zeroed) is left alone. */
void hashmap_remove(HashMap *m, HashNode *n);
/* Frees the bucket array and empties the map; the objects are not touched. */
void hashmap_clear(HashMap *m);

/* The head of the chain that hash falls in. */
static inline HashNode **hashmap_bucket(HashMap *m, uint64_t hash) {
        size_t n = m->n_buckets ? m->n_buckets : HASHMAP_INLINE_BUCKETS;

        return &(m->buckets ? m->buckets : m->inline_buckets)[hash & (n - 1)];
}

/*
 * The first entry of map (of type, filed by member) under hash for which
 * cond holds, or NULL. pos names the entry inside cond and is declared here:
 *         return hashmap_find_entry(Group, g, &c->groups_by_id, id_node,
 *                                   hash_u64(id), g->id == id);
 */
#define hashmap_find_entry(type, pos, map, member, hashval, cond) __extension__({     \
                HashMap *_map_ = (map);                                                 \
                uint64_t _hash_ = (hashval);                                            \
                type *_found_ = NULL;                                                   \
                for (HashNode *_n_ = *hashmap_bucket(_map_, _hash_); _n_; _n_ = _n_->next) { \
                        _map_->probes++;                                                \
                        if (_n_->hash != _hash_)                                        \
                                continue;                                               \
                        type *pos = container_of(_n_, type, member);                    \
                        if (cond) {                                                     \
                                _found_ = pos;                                          \
                                break;                                                  \
                        }                                                               \
                }                                                                       \
                _found_;                                                                \
        })
