/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain.c - I/O page tables (IoDomain), their mappings, and per-IOMMU SVA domains */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "client.h"
#include "core.h"
#include "domain.h"
#include "region.h"

/* Unmapped mappings kept for reuse: a page fault costs no malloc()/free(). */
#define SPARE_MAPPINGS_MAX 256u

static Core *iodomain_core(const IoDomain *dom) {
        return dom->client->core;
}

static Mapping *mapping_alloc(Core *c) {
        Mapping *m = c->spare_mappings;

        if (!m)
                return xzalloc(sizeof(*m));
        c->spare_mappings = (Mapping *)(void *)m->region;
        c->n_spare_mappings--;
        memset(m, 0, sizeof(*m));
        return m;
}

/* A spare is chained through its region pointer, which is unused then. */
static void mapping_release(Core *c, Mapping *m) {
        if (c->n_spare_mappings >= SPARE_MAPPINGS_MAX) {
                free(m);
                return;
        }
        m->domain = NULL;
        m->region = (Region *)(void *)c->spare_mappings;
        c->spare_mappings = m;
        c->n_spare_mappings++;
}

void mapping_spares_free(Core *c) {
        while (c->spare_mappings) {
                Mapping *m = c->spare_mappings;

                c->spare_mappings = (Mapping *)(void *)m->region;
                free(m);
        }
        c->n_spare_mappings = 0;
}

void iodomain_init(IoDomain *dom, DomainKind kind, Client *cl, Iommu *iommu) {
        dom->kind = kind;
        dom->client = cl;
        dom->iommu = iommu;
        list_init(&dom->mappings);
        dom->pages = (PageMap) PAGEMAP_INIT;
        dom->n_attached = 0;
        list_init(&dom->slots);
        dom->allocated = false;
        dom->backend_data = NULL;
        dom->ranges = NULL;
        dom->n_ranges = 0;
}

/* Small enough to ask on the stack first; more is asked again with room. */
#define RANGES_ON_STACK 8

void iodomain_refresh_ranges(IoDomain *dom) {
        Core *c = iodomain_core(dom);
        IovaRange buf[RANGES_ON_STACK], *v = buf, *copy;
        size_t room = ELEMENTSOF(buf);
        int n = 0;

        if (!c->ops->domain_iova_ranges || !dom->allocated)
                return;
        /* The answer may grow between two asks: three tries, then keep the old. */
        for (int tries = 0; tries < 3; tries++) {
                n = c->ops->domain_iova_ranges(c->backend_data, dom, v, room);
                if (n < 0 || (size_t)n <= room)
                        break;
                if (v != buf)
                        free(v);
                room = (size_t)n;
                v = xmalloc(room * sizeof(*v));
                if (!v)
                        return;
        }
        if (n >= 0 && (size_t)n <= room) {
                copy = xmalloc((n ? (size_t)n : 1) * sizeof(*copy));
                if (copy) {
                        memcpy(copy, v, (size_t)n * sizeof(*copy));
                        free(dom->ranges);
                        dom->ranges = copy;
                        dom->n_ranges = (size_t)n;
                }
        }
        if (v != buf)
                free(v);
}

uint64_t iodomain_allowed_end(const IoDomain *dom, uint64_t from, uint64_t to) {
        for (size_t i = 0; dom->ranges && i < dom->n_ranges; i++)
                if (from >= dom->ranges[i].start && from <= dom->ranges[i].last)
                        return dom->ranges[i].last < to - 1 ? dom->ranges[i].last + 1 : to;
        return to;
}

int iodomain_check_iovas(const IoDomain *dom, uint64_t iova, uint64_t length, IovaRange *ret_gap) {
        uint64_t last = iova + length - 1, gap_start = 0;

        if (!dom->ranges || length == 0)
                return 0;               /* not known: the backend still decides */
        for (size_t i = 0; i < dom->n_ranges; i++) {
                const IovaRange *r = &dom->ranges[i];

                if (iova < r->start) {
                        /* iova is in the gap before r. */
                        if (ret_gap)
                                *ret_gap = (IovaRange) { gap_start, r->start - 1 };
                        return -EINVAL;
                }
                if (iova <= r->last) {
                        if (last <= r->last && last >= iova)
                                return 0;
                        /* It runs past r: the gap after r. */
                        if (ret_gap)
                                *ret_gap = (IovaRange) { r->last + 1, i + 1 < dom->n_ranges ?
                                                         dom->ranges[i + 1].start - 1 : UINT64_MAX };
                        return -EINVAL;
                }
                gap_start = r->last + 1;
        }
        if (ret_gap)
                *ret_gap = (IovaRange) { gap_start, UINT64_MAX };
        return -EINVAL;
}

int iodomain_alloc(IoDomain *dom) {
        Core *c = iodomain_core(dom);
        int r;

        r = c->ops->domain_alloc(c->backend_data, dom);
        if (r < 0)
                return r;
        dom->allocated = true;
        iodomain_refresh_ranges(dom);
        return 0;
}

void iodomain_destroy(IoDomain *dom) {
        Core *c = iodomain_core(dom);

        /* L2: nothing may be attached when the page tables go. */
        assert(dom->n_attached == 0);
        iodomain_unmap_all(dom);
        if (dom->allocated)
                c->ops->domain_free(c->backend_data, dom);
        dom->allocated = false;
        pagemap_clear(&dom->pages);
        dom->ranges = mfree(dom->ranges);
        dom->n_ranges = 0;
}

Mapping *iodomain_mapping_at(const IoDomain *dom, uint64_t iova) {
        return pagemap_get(&dom->pages, iova / PAGE_SIZE_4K);
}

static void index_remove(IoDomain *dom, const Mapping *m, uint64_t n_pages) {
        for (uint64_t i = 0; i < n_pages; i++)
                pagemap_remove(&dom->pages, m->iova / PAGE_SIZE_4K + i);
}

/* Indexes every page of m; all or nothing. */
static int index_add(IoDomain *dom, Mapping *m) {
        uint64_t n = m->length / PAGE_SIZE_4K;

        for (uint64_t i = 0; i < n; i++)
                if (pagemap_put(&dom->pages, m->iova / PAGE_SIZE_4K + i, m) < 0) {
                        index_remove(dom, m, i);
                        return -ENOMEM;
                }
        return 0;
}

int iodomain_map(IoDomain *dom, Region *r, uint64_t region_offset, uint64_t iova,
                 uint64_t length, unsigned access, Mapping **ret) {
        Core *c = iodomain_core(dom);
        Mapping *m;
        int k;

        k = iodomain_check_iovas(dom, iova, length, NULL);
        if (k < 0)
                return k;
        m = mapping_alloc(c);
        if (!m)
                return -ENOMEM;
        m->domain = dom;
        m->region = r;
        m->iova = iova;
        m->length = length;
        m->region_offset = region_offset;
        m->access = access;
        k = index_add(dom, m);
        if (k < 0) {
                mapping_release(c, m);
                return k;
        }
        k = c->ops->domain_map(c->backend_data, dom, m);
        if (k < 0) {
                index_remove(dom, m, m->length / PAGE_SIZE_4K);
                mapping_release(c, m);
                return k;
        }
        list_add_tail(&dom->mappings, &m->domain_link);
        list_add_tail(&r->mappings, &m->region_link);
        if (ret)
                *ret = m;
        return 0;
}

int iodomain_extend(Mapping *m, uint64_t more) {
        IoDomain *dom = m->domain;
        Core *c = iodomain_core(dom);
        Mapping delta = {
                .domain = dom, .region = m->region, .iova = m->iova + m->length, .length = more,
                .region_offset = m->region_offset + m->length, .access = m->access,
        };
        int k;

        if (delta.region_offset + more > m->region->length || delta.iova + more < delta.iova)
                return -EINVAL;
        k = iodomain_check_iovas(dom, delta.iova, more, NULL);
        if (k < 0)
                return k;
        /* The new pages point at m, which is what will unmap them. */
        for (uint64_t i = 0; i < more / PAGE_SIZE_4K; i++)
                if (pagemap_put(&dom->pages, delta.iova / PAGE_SIZE_4K + i, m) < 0) {
                        index_remove(dom, &delta, i);
                        return -ENOMEM;
                }
        k = c->ops->domain_map(c->backend_data, dom, &delta);
        if (k < 0) {
                index_remove(dom, &delta, more / PAGE_SIZE_4K);
                return k;
        }
        m->length += more;
        return 0;
}

void mapping_unmap(Mapping *m) {
        Core *c = iodomain_core(m->domain);

        c->ops->domain_unmap(c->backend_data, m->domain, m);
        index_remove(m->domain, m, m->length / PAGE_SIZE_4K);
        list_del_init(&m->domain_link);
        list_del_init(&m->region_link);
        if (m->charged)
                client_uncharge_object(m->domain->client, RES_MAPPINGS, m->length);
        mapping_release(c, m);
}

/* Lookups go through the page index, so that a domain with thousands of
 * mappings costs no more per call than one with a single mapping; each probe
 * is counted in Core.mapping_lookups, which the unit tests compare. */
Mapping *iodomain_find_mapping(IoDomain *dom, uint64_t iova, uint64_t length) {
        Mapping *m;

        iodomain_core(dom)->mapping_lookups++;
        m = pagemap_get(&dom->pages, iova / PAGE_SIZE_4K);
        return m && m->iova == iova && m->length == length ? m : NULL;
}

bool iodomain_range_mapped(IoDomain *dom, uint64_t iova, uint64_t length) {
        Core *c = iodomain_core(dom);

        for (uint64_t p = iova / PAGE_SIZE_4K; p < (iova + length) / PAGE_SIZE_4K; p++) {
                c->mapping_lookups++;
                if (pagemap_get(&dom->pages, p))
                        return true;
        }
        return false;
}

void iodomain_unmap_all(IoDomain *dom) {
        while (!list_empty(&dom->mappings))
                mapping_unmap(list_entry(dom->mappings.next, Mapping, domain_link));
}

int sva_domain_get(Client *cl, Iommu *iommu, SvaDomain **ret) {
        SvaDomain *d;
        int r;

        list_for_each_entry(d, &cl->sva_domains, client_link)
                if (d->io.iommu == iommu) {
                        d->users++;
                        *ret = d;
                        return 0;
                }

        d = xzalloc(sizeof(*d));
        if (!d)
                return -ENOMEM;
        iodomain_init(&d->io, DOMAIN_SVA, cl, iommu);
        r = iodomain_alloc(&d->io);
        if (r < 0) {
                free(d);
                return r;
        }
        d->users = 1;
        list_add_tail(&cl->sva_domains, &d->client_link);
        *ret = d;
        return 0;
}

void sva_domain_put(SvaDomain *d) {
        Client *cl = d->io.client;

        assert(d->users > 0);
        if (--d->users > 0)
                return;
        list_del_init(&d->client_link);
        iodomain_destroy(&d->io);
        free(d);
        client_maybe_put_pasid(cl);
}

int sva_domain_pin(SvaDomain *d) {
        Region *r;
        int k;

        if (d->pinned)
                return 0;
        list_for_each_entry(r, &d->io.client->regions, client_link) {
                k = iodomain_map(&d->io, r, 0, r->address, r->length, r->access, NULL);
                if (k < 0) {
                        iodomain_unmap_all(&d->io);
                        return k;
                }
        }
        d->pinned = true;
        return 0;
}
