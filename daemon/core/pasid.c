/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pasid.c - the global PASID space 1..2^20-1 as a three-level bitmap */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "pasid.h"

/*
 * leaf:  one bit per PASID, set = allocated            (2^20 bits)
 * mid:   one bit per leaf word, set = that word is full (2^14 bits)
 * top:   one bit per mid word, set = that word is full  (2^8 bits)
 * PASID 0 is reserved for the RID and marked allocated at creation, so the
 * lowest-free search never returns it.
 */
#define LEAF_WORDS ((1u << PASID_BITS) / 64)
#define MID_WORDS (LEAF_WORDS / 64)
#define TOP_WORDS (MID_WORDS / 64)

struct PasidPool {
        uint64_t top[TOP_WORDS];
        uint64_t mid[MID_WORDS];
        uint64_t leaf[LEAF_WORDS];
        uint32_t count;         /* allocated PASIDs, not counting 0 */
};

static void set_bit_full(PasidPool *p, uint32_t pasid) {
        uint32_t w = pasid / 64, m = w / 64;

        p->leaf[w] |= UINT64_C(1) << (pasid % 64);
        if (p->leaf[w] != UINT64_MAX)
                return;
        p->mid[m] |= UINT64_C(1) << (w % 64);
        if (p->mid[m] != UINT64_MAX)
                return;
        p->top[m / 64] |= UINT64_C(1) << (m % 64);
}

static void clear_bit_full(PasidPool *p, uint32_t pasid) {
        uint32_t w = pasid / 64, m = w / 64;

        p->leaf[w] &= ~(UINT64_C(1) << (pasid % 64));
        p->mid[m] &= ~(UINT64_C(1) << (w % 64));
        p->top[m / 64] &= ~(UINT64_C(1) << (m % 64));
}

int pasid_pool_new(PasidPool **ret) {
        PasidPool *p = xzalloc(sizeof(*p));
        if (!p)
                return -ENOMEM;
        set_bit_full(p, PASID_NONE);
        *ret = p;
        return 0;
}

PasidPool *pasid_pool_free(PasidPool *p) {
        free(p);
        return NULL;
}

/* Bits from b (0..63) upwards. */
static uint64_t mask_from(long b) {
        return UINT64_MAX << b;
}

static long lowest_clear(uint64_t w) {
        return __builtin_ctzll(~w);
}

typedef long (*NextClearFn)(const PasidPool *p, long from);

/* The lowest clear top bit >= from: a mid word that is not full. */
static long top_next_clear(const PasidPool *p, long from) {
        for (long w = from / 64; w < (long)TOP_WORDS; w++) {
                uint64_t used = p->top[w] | (w == from / 64 ? ~mask_from(from % 64) : 0);

                if (used != UINT64_MAX)
                        return w * 64 + lowest_clear(used);
        }
        return -1;
}

/*
 * The lowest clear bit >= from of one level (words, n_bits): in from's own
 * word, else in the next word that the level above (next_word) says is not
 * full. Three word scans in all, whatever the contents.
 */
static long level_next_clear(const PasidPool *p, const uint64_t *words, long n_bits, long from,
                             NextClearFn next_word) {
        long w = from / 64, nw;
        uint64_t used;

        if (from >= n_bits)
                return -1;
        used = words[w] | ~mask_from(from % 64);
        if (used != UINT64_MAX)
                return w * 64 + lowest_clear(used);
        nw = next_word(p, w + 1);
        return nw < 0 ? -1 : nw * 64 + lowest_clear(words[nw]);
}

static long mid_next_clear(const PasidPool *p, long from) {
        return level_next_clear(p, p->mid, (long)MID_WORDS * 64, from, top_next_clear);
}

static long leaf_next_clear(const PasidPool *p, long from) {
        return level_next_clear(p, p->leaf, (long)LEAF_WORDS * 64, from, mid_next_clear);
}

int pasid_pool_alloc_range(PasidPool *p, uint32_t lo, uint32_t hi, uint32_t *ret) {
        long pasid;

        if (lo < 1)
                lo = 1;
        if (hi > PASID_MAX + 1)
                hi = PASID_MAX + 1;
        if (lo >= hi)
                return -ENOSPC;
        pasid = leaf_next_clear(p, lo);
        if (pasid < 0 || pasid >= (long)hi)
                return -ENOSPC;
        set_bit_full(p, (uint32_t)pasid);
        p->count++;
        *ret = (uint32_t)pasid;
        return 0;
}

int pasid_pool_alloc(PasidPool *p, uint32_t limit, uint32_t *ret) {
        return pasid_pool_alloc_range(p, 1, limit, ret);
}

bool pasid_pool_is_allocated(const PasidPool *p, uint32_t pasid) {
        if (pasid == PASID_NONE || pasid > PASID_MAX)
                return false;
        return p->leaf[pasid / 64] & (UINT64_C(1) << (pasid % 64));
}

int pasid_pool_release(PasidPool *p, uint32_t pasid) {
        if (!pasid_pool_is_allocated(p, pasid))
                return -EINVAL;
        clear_bit_full(p, pasid);
        p->count--;
        return 0;
}

uint32_t pasid_pool_count(const PasidPool *p) {
        return p->count;
}

size_t pasid_pool_memory_size(void) {
        return sizeof(PasidPool);
}
