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

/* Index of the lowest clear bit of w; w must not be all ones. */
static unsigned lowest_clear(uint64_t w) {
        return (unsigned)__builtin_ctzll(~w);
}

int pasid_pool_alloc(PasidPool *p, uint32_t limit, uint32_t *ret) {
        uint32_t t, m, w, pasid;

        for (t = 0; t < TOP_WORDS; t++)
                if (p->top[t] != UINT64_MAX)
                        break;
        if (t == TOP_WORDS)
                return -ENOSPC;
        m = t * 64 + lowest_clear(p->top[t]);
        w = m * 64 + lowest_clear(p->mid[m]);
        pasid = w * 64 + lowest_clear(p->leaf[w]);
        if (pasid >= limit || pasid > PASID_MAX)
                return -ENOSPC;
        set_bit_full(p, pasid);
        p->count++;
        *ret = pasid;
        return 0;
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
