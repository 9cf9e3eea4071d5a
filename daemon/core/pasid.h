/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pasid.h - the global PASID space 1..2^20-1 as a three-level bitmap */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define PASID_BITS 20
#define PASID_NONE 0u                           /* 0 means "no PASID" (RID) */
#define PASID_MAX ((1u << PASID_BITS) - 1)      /* highest valid PASID */

typedef struct PasidPool PasidPool;

/*
 * Allocation returns the lowest free PASID of a range. Which range a client
 * gets is decided by client_get_pasid(): the low PASIDs are kept for the
 * clients whose devices have a small max_pasids (docs/architecture.md, L7).
 *
 * Cost: O(1) per call (three word scans of at most 64 bits each); the whole
 * space takes 2^20 bits + 2^14 bits + 2^8 bits = about 130 KiB, allocated
 * once by pasid_pool_new().
 */
int pasid_pool_new(PasidPool **ret);
PasidPool *pasid_pool_free(PasidPool *p);

/* Allocates the lowest free PASID < limit (limit is a device's max_pasids,
 * or PASID_MAX + 1). Returns -ENOSPC when there is none. */
int pasid_pool_alloc(PasidPool *p, uint32_t limit, uint32_t *ret);
/* The lowest free PASID in [lo, hi) (lo 0 is taken as 1, hi is at most
 * PASID_MAX + 1); -ENOSPC when there is none. */
int pasid_pool_alloc_range(PasidPool *p, uint32_t lo, uint32_t hi, uint32_t *ret);

/* Returns -EINVAL for PASID 0, out of range, or a PASID not allocated. */
int pasid_pool_release(PasidPool *p, uint32_t pasid);

bool pasid_pool_is_allocated(const PasidPool *p, uint32_t pasid);
uint32_t pasid_pool_count(const PasidPool *p);
size_t pasid_pool_memory_size(void);
