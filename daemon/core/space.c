/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* space.c - spaces: a client's I/O address space (IOAS) with chosen IOVAs */
#include <errno.h>

#include "common/alloc.h"
#include "client.h"
#include "device.h"
#include "group.h"
#include "pasid.h"
#include "region.h"
#include "space.h"

Space *client_find_space(Client *cl, uint64_t id) {
        return hashmap_find_entry(Space, s, &cl->core->spaces_by_id, id_node, hash_u64(id),
                                  s->id == id && s->io.client == cl);
}

int space_new(Client *cl, Space **ret) {
        Space *s;
        int r;

        if (cl->ended)
                return -ESHUTDOWN;
        r = client_charge(cl, RES_SPACES, 1);
        if (r < 0)
                return r;
        s = xzalloc(sizeof(*s));
        if (!s) {
                client_uncharge(cl, RES_SPACES, 1);
                return -ENOMEM;
        }
        iodomain_init(&s->io, DOMAIN_SPACE, cl, NULL);
        list_init(&s->attachments);
        list_init(&s->free_node.link);
        s->free_node.kind = DEFER_SPACE_FREE;
        r = iodomain_alloc(&s->io);
        if (r < 0) {
                free(s);
                client_uncharge(cl, RES_SPACES, 1);
                return r;
        }
        s->id = core_next_id(cl->core);
        list_add_tail(&cl->spaces, &s->client_link);
        hashmap_put(&cl->core->spaces_by_id, &s->id_node, hash_u64(s->id));
        core_emit(cl->core, CORE_EVENT_SPACE_ADDED, 0, s->id, cl->id, NULL);
        *ret = s;
        return 0;
}

void space_attachment_free(SpaceAttachment *a) {
        slot_release(&a->slot);
        list_del_init(&a->space_link);
        free(a);
}

int space_free(Space *s) {
        Client *cl = s->io.client;
        SpaceAttachment *a;

        if (core_in_callback(cl->core)) {
                core_defer(cl->core, &s->free_node);
                return 0;
        }
        /* L2: every slot first, then the mappings, then the page tables. */
        list_for_each_entry(a, &s->attachments, space_link)
                slot_release(&a->slot);
        while (!list_empty(&s->attachments))
                space_attachment_free(list_entry(s->attachments.next, SpaceAttachment, space_link));
        iodomain_destroy(&s->io);
        list_del_init(&s->free_node.link);
        list_del_init(&s->client_link);
        hashmap_remove(&cl->core->spaces_by_id, &s->id_node);
        core_emit(cl->core, CORE_EVENT_SPACE_REMOVED, 0, s->id, cl->id, NULL);
        client_uncharge(cl, RES_SPACES, 1);
        free(s);
        client_maybe_put_pasid(cl);
        return 0;
}

static int space_map_check(Space *s, Region *r, uint64_t region_offset, uint64_t iova,
                           uint64_t length, unsigned access) {
        if (r->client != s->io.client)
                return -EACCES;
        if (s->io.client->ended)
                return -ESHUTDOWN;
        if (length == 0 || !page_aligned(region_offset) || !page_aligned(iova) ||
            !page_aligned(length))
                return -EINVAL;
        if (region_offset > r->length || length > r->length - region_offset)
                return -EINVAL;
        if (iova + length < iova)
                return -EINVAL;
        if (access == 0 || (access & ~r->access))
                return -EINVAL;
        return 0;
}

/*
 * A mapping costs the daemon its Mapping and an index entry per page, so it
 * is charged one of "mappings" and its length in "bytes", whatever region it
 * maps: one region mapped at a thousand IOVAs costs a thousand times (L10).
 * The charge comes before the overlap check, which thus never probes more
 * pages than the quota allows.
 */
int space_map(Space *s, Region *r, uint64_t region_offset, uint64_t iova,
              uint64_t length, unsigned access) {
        Client *cl = s->io.client;
        Mapping *m;
        int k;

        k = space_map_check(s, r, region_offset, iova, length, access);
        if (k < 0)
                return k;
        k = client_charge_object(cl, RES_MAPPINGS, length);
        if (k < 0)
                return k;
        k = iodomain_range_mapped(&s->io, iova, length) ? -EEXIST :
            iodomain_map(&s->io, r, region_offset, iova, length, access, &m);
        if (k < 0) {
                client_uncharge_object(cl, RES_MAPPINGS, length);
                return k;
        }
        m->charged = true;
        return 0;
}

int space_unmap(Space *s, uint64_t iova, uint64_t length) {
        Mapping *m = iodomain_find_mapping(&s->io, iova, length);

        if (!m)
                return -ENOENT;
        mapping_unmap(m);
        return 0;
}

static int space_attach_check(Space *s, Device *d, uint32_t pasid) {
        Client *cl = s->io.client;

        if (cl->ended)
                return -ESHUTDOWN;
        if (d->group->owner != cl)
                return -EPERM;
        if (pasid == PASID_NONE)
                return device_find_slot(d, pasid) ? -EBUSY : 0;
        if (!device_has_pasids(d))
                return -EOPNOTSUPP;
        /* PASIDs belong to clients: a space goes at the client's own. */
        if (pasid != cl->pasid)
                return -EINVAL;
        if (pasid >= d->max_pasids)
                return -EOVERFLOW;
        return device_find_slot(d, pasid) ? -EBUSY : 0;
}

int space_attach(Space *s, Device *d, uint32_t pasid) {
        SpaceAttachment *a;
        int r;

        r = space_attach_check(s, d, pasid);
        if (r < 0)
                return r;
        a = xzalloc(sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->space = s;
        slot_init(&a->slot);
        r = slot_take(&a->slot, SLOT_SPACE, d, pasid, &s->io);
        if (r < 0) {
                free(a);
                return r;
        }
        list_add_tail(&s->attachments, &a->space_link);
        return 0;
}

int space_detach(Space *s, Device *d, uint32_t pasid) {
        SpaceAttachment *a;

        list_for_each_entry(a, &s->attachments, space_link)
                if (a->slot.device == d && a->slot.pasid == pasid) {
                        space_attachment_free(a);
                        return 0;
                }
        return -ENOENT;
}
