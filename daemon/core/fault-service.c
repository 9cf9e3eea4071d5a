/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-service.c - deciding a page request: map from the client's regions or refuse */
#include <errno.h>

#include "client.h"
#include "domain.h"
#include "fault.h"
#include "region.h"
#include "slot.h"

static uint64_t page_down(uint64_t a) {
        return a & ~(uint64_t)(PAGE_SIZE_4K - 1);
}

/* ACCESS_* bits a record needs; exec and privileged requests get none. */
static int record_access(const FaultRecord *rec, unsigned *ret) {
        unsigned need = 0;

        if (rec->perm & (FAULT_PERM_EXEC | FAULT_PERM_PRIV))
                return -EACCES;
        if (rec->perm & FAULT_PERM_READ)
                need |= ACCESS_READ;
        if (rec->perm & FAULT_PERM_WRITE)
                need |= ACCESS_WRITE;
        *ret = need ? need : ACCESS_READ;
        return 0;
}

/* Maps [from, to) of r: extends the mapping that ends at `from` if it is
 * the same region's, else makes a new one. */
static int map_run(IoDomain *dom, Region *r, uint64_t from, uint64_t to) {
        Mapping *prev = from > r->address ? iodomain_mapping_at(dom, from - PAGE_SIZE_4K) : NULL;

        if (prev && prev->region == r && prev->iova + prev->length == from && prev->access == r->access)
                return iodomain_extend(prev, to - from);
        return iodomain_map(dom, r, from - r->address, from, to - from, r->access, NULL);
}

/* Maps [from, to) of region r into dom, skipping pages already mapped;
 * the caller found `from` itself unmapped. */
static int map_missing(IoDomain *dom, Region *r, uint64_t from, uint64_t to) {
        uint64_t run = from;
        int k;

        for (uint64_t p = from; p <= to; p += PAGE_SIZE_4K) {
                bool gap = p < to && (p == from || !iodomain_mapping_at(dom, p));

                if (gap)
                        continue;
                if (p > run) {
                        k = map_run(dom, r, run, p);
                        if (k < 0)
                                return k;
                }
                run = p + PAGE_SIZE_4K;
        }
        return 0;
}

static int resolve_record(IoDomain *dom, const FaultRecord *rec) {
        uint64_t page = page_down(rec->addr), end;
        Mapping *m;
        Region *r;
        unsigned need;
        int k;

        k = record_access(rec, &need);
        if (k < 0)
                return k;
        m = iodomain_mapping_at(dom, page);
        if (m)  /* already there: a retry, or a write to a read-only page */
                return (m->access & need) == need ? 0 : -EACCES;
        if (dom->kind != DOMAIN_SVA)
                return -EFAULT; /* a space maps only what Map() asked for */
        r = client_region_at(dom->client, page, PAGE_SIZE_4K);
        if (!r)
                return -EFAULT;
        if ((r->access & need) != need)
                return -EACCES;
        if (iodomain_check_iovas(dom, page, PAGE_SIZE_4K, NULL) < 0)
                return -EFAULT; /* an IOVA the IOMMU does not allow: a reserved region */

        end = rec->addr + (rec->length ? rec->length : 1);
        if (end < rec->addr || end - page > FAULT_PREFAULT_MAX)
                end = page + FAULT_PREFAULT_MAX;
        end = (end + PAGE_SIZE_4K - 1) & ~(uint64_t)(PAGE_SIZE_4K - 1);
        if (end > r->address + r->length)
                end = r->address + r->length;
        end = iodomain_allowed_end(dom, page, end);     /* the hint stops there too */
        if (end - page == PAGE_SIZE_4K)
                return map_run(dom, r, page, end);      /* the common case: one page */
        return map_missing(dom, r, page, end);
}

FaultCode fault_group_resolve(FaultGroup *fg) {
        FaultCode code = FAULT_INVALID;
        Slot *slot = fg->slot;

        if (slot && slot->domain && fg->client && fg->client->may_fault) {
                code = FAULT_SUCCESS;
                for (unsigned i = 0; i < fg->n_records; i++)
                        if (resolve_record(slot->domain, &fg->records[i]) < 0) {
                                code = FAULT_INVALID;
                                break;
                        }
        }
        fault_group_respond(fg, code);
        return code;
}
