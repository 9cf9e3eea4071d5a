/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* slot.c - what sits at a (device, PASID): an SVA bond or a space, with a type key (L6) */
#include <errno.h>

#include "core.h"
#include "device.h"
#include "domain.h"
#include "fault.h"
#include "group.h"
#include "handout.h"
#include "slot.h"

void slot_init(Slot *slot) {
        slot->device = NULL;
        slot->domain = NULL;
        slot->attached = false;
        list_init(&slot->device_link);
        list_init(&slot->domain_link);
        list_init(&slot->faults);
}

uint64_t slot_key_hash(const Device *d, uint32_t pasid) {
        return hash_u64((uint64_t)(uintptr_t)d ^ ((uint64_t)pasid << 44));
}

Client *slot_client(const Slot *slot) {
        return slot->domain ? slot->domain->client : NULL;
}

int slot_take(Slot *slot, SlotType type, Device *d, uint32_t pasid, IoDomain *dom) {
        Core *c = d->core;
        int r;

        /* The check and the take are one step: nothing runs in between.
         * A group with a device handed out is the holder's (handout.h). */
        if (device_find_slot(d, pasid) || group_handout_blocks_slots(d->group))
                return -EBUSY;
        slot->type = type;
        slot->device = d;
        slot->pasid = pasid;
        slot->domain = dom;
        list_add_tail(&d->slots, &slot->device_link);
        hashmap_put(&c->slots_by_key, &slot->key_node, slot_key_hash(d, pasid));
        list_add_tail(&dom->slots, &slot->domain_link);
        dom->n_attached++;

        r = c->ops->slot_attach(c->backend_data, slot);
        if (r < 0) {
                list_del_init(&slot->device_link);
                hashmap_remove(&c->slots_by_key, &slot->key_node);
                list_del_init(&slot->domain_link);
                dom->n_attached--;
                slot->device = NULL;
                slot->domain = NULL;
                /* A refused attach may still have narrowed them (the kernel
                 * made a HWPT there, with its IOMMU's aperture). */
                iodomain_refresh_ranges(dom);
                return r;
        }
        slot->attached = true;
        iodomain_refresh_ranges(dom);
        return 0;
}

void slot_release(Slot *slot) {
        bool detached;
        Core *c;

        if (!slot->device)
                return;                 /* L1: released already */
        c = slot->device->core;
        detached = slot->attached;
        if (detached)
                c->ops->slot_detach(c->backend_data, slot);
        slot->attached = false;
        /* The detach answered the slot's page requests (L8): none is written. */
        fault_abort_slot(slot, detached);
        list_del_init(&slot->device_link);
        hashmap_remove(&c->slots_by_key, &slot->key_node);
        list_del_init(&slot->domain_link);
        slot->domain->n_attached--;
        iodomain_refresh_ranges(slot->domain);
        slot->domain = NULL;
        slot->device = NULL;
}
