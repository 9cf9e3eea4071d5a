/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* region.c - client memory shared for DMA (a memfd range mapped at a client address) */
#include <errno.h>

#include "common/alloc.h"
#include "client.h"
#include "domain.h"
#include "region.h"

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
        return a < b + blen && b < a + alen;
}

Region *client_find_region(Client *cl, uint64_t id) {
        return hashmap_find_entry(Region, r, &cl->core->regions_by_id, id_node, hash_u64(id),
                                  r->id == id && r->client == cl);
}

Region *client_region_at(Client *cl, uint64_t address, uint64_t length) {
        if (length == 0 || address + length < address)
                return NULL;
        return list_find_entry(Region, r, &cl->regions, client_link,
                               address >= r->address && address + length <= r->address + r->length);
}

static int region_validate(Client *cl, uint64_t address, uint64_t offset,
                           uint64_t length, unsigned access) {
        Region *r;

        if (length == 0 || !page_aligned(address) || !page_aligned(offset) ||
            !page_aligned(length))
                return -EINVAL;
        if (address + length < address || offset + length < offset)
                return -EINVAL;
        if (access == 0 || (access & ~ACCESS_ALL))
                return -EINVAL;
        list_for_each_entry(r, &cl->regions, client_link)
                if (ranges_overlap(address, length, r->address, r->length))
                        return -EEXIST;
        return 0;
}

/* Maps r into every SVA domain of its client that pins regions. */
static int region_map_pinned(Region *r) {
        SvaDomain *d;
        int k;

        list_for_each_entry(d, &r->client->sva_domains, client_link) {
                if (!d->pinned)
                        continue;
                k = iodomain_map(&d->io, r, 0, r->address, r->length, r->access, NULL);
                if (k < 0)
                        return k;
        }
        return 0;
}

int region_new(Client *cl, uint64_t address, uint64_t offset, uint64_t length,
               unsigned access, void *backing, int memfd, Region **ret) {
        Region *r;
        int k;

        if (cl->ended)
                return -ESHUTDOWN;
        k = region_validate(cl, address, offset, length, access);
        if (k < 0)
                return k;
        k = client_charge_object(cl, RES_REGIONS, length);
        if (k < 0)
                return k;

        r = xzalloc(sizeof(*r));
        if (!r) {
                client_uncharge_object(cl, RES_REGIONS, length);
                return -ENOMEM;
        }
        r->client = cl;
        r->address = address;
        r->offset = offset;
        r->length = length;
        r->access = access;
        r->backing = backing;
        r->memfd = memfd;
        list_init(&r->mappings);
        list_add_tail(&cl->regions, &r->client_link);

        k = region_map_pinned(r);
        if (k < 0) {
                region_free(r);
                return k;
        }
        r->id = core_next_id(cl->core);
        hashmap_put(&cl->core->regions_by_id, &r->id_node, hash_u64(r->id));
        core_emit(cl->core, CORE_EVENT_REGION_ADDED, 0, r->id, cl->id, NULL);
        *ret = r;
        return 0;
}

int region_remove(Region *r) {
        Mapping *m;

        list_for_each_entry(m, &r->mappings, region_link)
                if (m->domain->kind == DOMAIN_SPACE)
                        return -EBUSY;
        region_free(r);
        return 0;
}

/* Unmaps r from every domain (in SVA domains it was mapped implicitly),
 * then frees it. */
Region *region_free(Region *r) {
        if (!r)
                return NULL;
        while (!list_empty(&r->mappings))
                mapping_unmap(list_entry(r->mappings.next, Mapping, region_link));
        list_del_init(&r->client_link);
        if (r->id) {    /* 0: half-built by region_new(), never filed or announced */
                hashmap_remove(&r->client->core->regions_by_id, &r->id_node);
                core_emit(r->client->core, CORE_EVENT_REGION_REMOVED, 0, r->id, r->client->id, NULL);
        }
        client_uncharge_object(r->client, RES_REGIONS, r->length);
        free(r);
        return NULL;
}
