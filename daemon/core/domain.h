/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain.h - I/O page tables (IoDomain), their mappings, and per-IOMMU SVA domains */
#pragma once

#include "common/list.h"
#include "common/pagemap.h"
#include "types.h"

/*
 * An IoDomain is the model of one set of I/O page tables: the kernel's HWPT
 * (over an IOAS). It is embedded in its owner, a SvaDomain or a Space, and
 * owns its Mappings. Before it is freed, no slot may use it (n_attached == 0)
 * and it is unmapped: iodomain_destroy() checks both.
 */
struct IoDomain {
        DomainKind kind;
        Client *client;         /* borrowed: the owner's client */
        Iommu *iommu;           /* borrowed; NULL for spaces */
        ListNode mappings;      /* Mapping.domain_link, owned */
        PageMap pages;          /* IOVA page number -> Mapping, borrowed */
        unsigned n_attached;    /* slots using this domain */
        ListNode slots;         /* Slot.domain_link, borrowed: those n_attached slots */
        bool allocated;         /* backend domain_alloc() succeeded */
        /* The IOVAs the backend allows to map, sorted (domain_iova_ranges());
         * owned; n_ranges == 0 with ranges == NULL: not known, all allowed. */
        IovaRange *ranges;
        size_t n_ranges;
        void *backend_data;     /* owned by the backend */
};

/* One IOVA range of a domain backed by part of a region. */
struct Mapping {
        IoDomain *domain;       /* borrowed: the owner */
        Region *region;         /* borrowed; a region is not freed while mapped */
        uint64_t iova;
        uint64_t length;
        uint64_t region_offset; /* offset into the region, not into the memfd */
        unsigned access;
        bool charged;           /* made by Space.Map: counts in "mappings" and "bytes" (L10) */
        ListNode domain_link;   /* in domain->mappings */
        ListNode region_link;   /* in region->mappings */
};

void iodomain_init(IoDomain *dom, DomainKind kind, Client *cl, Iommu *iommu);
int iodomain_alloc(IoDomain *dom);
/* Unmaps everything, then frees the backend domain (L2 order). */
void iodomain_destroy(IoDomain *dom);

/*
 * Maps [iova, iova + length) to r at region_offset. -EINVAL, before anything
 * is mapped, when the range is not inside one range the domain allows
 * (iodomain_check_iovas()).
 */
int iodomain_map(IoDomain *dom, Region *r, uint64_t region_offset, uint64_t iova,
                 uint64_t length, unsigned access, Mapping **ret);
/*
 * 0 when [iova, iova + length) lies inside one of the IOVA ranges dom
 * allows; else -EINVAL with *ret_gap (may be NULL) the IOVAs that are not
 * allowed around the first one of the request that is not: a reserved
 * region (the MSI window), or what lies beyond the IOMMU's aperture.
 */
int iodomain_check_iovas(const IoDomain *dom, uint64_t iova, uint64_t length, IovaRange *ret_gap);
/* The end of the allowed range from `from` on, at most `to`: where a
 * mapping that starts at an allowed `from` must stop. */
uint64_t iodomain_allowed_end(const IoDomain *dom, uint64_t from, uint64_t to);
/* Asks the backend again which IOVAs dom allows (after attach/detach). */
void iodomain_refresh_ranges(IoDomain *dom);
void mapping_unmap(Mapping *m);
/*
 * Grows m by `more` bytes right after its end, from the same region: the
 * backend maps just the new part (domain_map() of a mapping describing it),
 * and a later unmap of m takes the whole. Faults on consecutive pages so
 * cost one mapping, not one each.
 */
int iodomain_extend(Mapping *m, uint64_t more);
/* The mapping of exactly [iova, iova + length), or NULL: one index lookup. */
Mapping *iodomain_find_mapping(IoDomain *dom, uint64_t iova, uint64_t length);
/* The mapping that covers iova, in O(1). */
Mapping *iodomain_mapping_at(const IoDomain *dom, uint64_t iova);
/* Whether any page of [iova, iova + length) is mapped: one index lookup per
 * page, never a walk over the domain's mappings (L10). */
bool iodomain_range_mapped(IoDomain *dom, uint64_t iova, uint64_t length);
void iodomain_unmap_all(IoDomain *dom);
/* Frees the mappings kept for reuse (core_free()). */
void mapping_spares_free(Core *c);

/*
 * A client's SVA domain on one IOMMU instance: IOVA == the client's VA,
 * shared by all its bonds on devices behind that IOMMU. Owned by
 * client->sva_domains; freed when its last bond lets go (users == 0).
 * When a bonded device has no PRI, the client's regions are mapped (pinned)
 * up front, because such a device cannot fault them in.
 */
struct SvaDomain {
        IoDomain io;
        ListNode client_link;   /* in client->sva_domains */
        unsigned users;         /* active bonds using it */
        bool pinned;            /* client's regions are mapped up front */
};

/* Returns the client's domain for iommu, with one more user. */
int sva_domain_get(Client *cl, Iommu *iommu, SvaDomain **ret);
void sva_domain_put(SvaDomain *d);
/* Maps every region of the client (idempotent). */
int sva_domain_pin(SvaDomain *d);
