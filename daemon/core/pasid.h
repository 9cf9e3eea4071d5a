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
 * Allocation always returns the lowest free PASID. That keeps PASIDs small,
 * so that devices with a small max_pasids can still use most clients' PASID,
 * and it makes "is there a free PASID below limit" the same question as
 * "is the lowest free PASID below limit".
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

/* Returns -EINVAL for PASID 0, out of range, or a PASID not allocated. */
int pasid_pool_release(PasidPool *p, uint32_t pasid);

bool pasid_pool_is_allocated(const PasidPool *p, uint32_t pasid);
uint32_t pasid_pool_count(const PasidPool *p);
size_t pasid_pool_memory_size(void);
