/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* slot.h - what sits at a (device, PASID): an SVA bond or a space, with a type key (L6) */
#pragma once

#include "common/list.h"
#include "types.h"

/*
 * Embedded in its holder (a Bond or a SpaceAttachment), which owns it.
 * While taken, it is linked on its device and may have pending faults; a
 * slot is always detached (slot_release()) before its holder is freed.
 */
struct Slot {
        SlotType type;          /* the type key: what holds the slot */
        Device *device;         /* borrowed; NULL when released */
        uint32_t pasid;         /* PASID_NONE (0) is the RID */
        IoDomain *domain;       /* borrowed from the holder */
        ListNode device_link;   /* in device->slots while taken */
        ListNode domain_link;   /* in domain->slots while taken */
        HashNode key_node;      /* in core->slots_by_key (device, PASID) while taken */
        ListNode faults;        /* FaultGroup.slot_link, pending groups */
        bool attached;          /* backend slot_attach() succeeded */
};

/*
 * Takes (d, pasid) for a holder of type `type` and attaches dom there, in
 * one step without a window: -EBUSY if the slot is held by anything.
 * On failure the slot is left untaken.
 */
/* The hash a slot at (d, pasid) is filed under in Core.slots_by_key. */
uint64_t slot_key_hash(const Device *d, uint32_t pasid);

int slot_take(Slot *slot, SlotType type, Device *d, uint32_t pasid, IoDomain *dom);

/*
 * Stops DMA through the slot: detaches it in the backend, then answers its
 * pending faults INVALID (L2, L8), then unlinks it. Idempotent (L1).
 */
void slot_release(Slot *slot);

void slot_init(Slot *slot);
Client *slot_client(const Slot *slot);
