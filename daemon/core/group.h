/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* group.h - IOMMU groups and their DMA ownership: claim and release (L4, L5) */
#pragma once

#include "common/list.h"
#include "core.h"
#include "types.h"

/*
 * Owned by Core.groups. A group is created with its first device and freed
 * with its last one; a claim on it ends then (group_device_gone()).
 */
struct Group {
        Core *core;             /* borrowed */
        uint32_t id;
        ListNode core_link;     /* in core->groups */
        ListNode devices;       /* Device.group_link, borrowed */
        unsigned n_devices;
        unsigned dma_api_count; /* devices bound to DMA-API drivers */
        Client *owner;          /* borrowed; non-NULL while user-owned */
        ListNode owner_link;    /* in owner->groups */
        DeferNode release;      /* a release asked for during a callback */
        unsigned revoke;        /* revoke.c's mark while client_revoke() runs, else 0 */
        void *backend_data;     /* owned by the backend */
};

Ownership group_ownership(const Group *g);

/*
 * Takes g for user-managed DMA by client. Claims don't nest: claiming a group
 * the client already owns returns 0 and changes nothing. With
 * CLAIM_DETACH_KERNEL_DRIVERS, DMA-API drivers are detached first and
 * remembered for release; without it a group in DMA-API use is -EBUSY. A
 * failure at any step puts every driver back as it was (L5).
 */
int group_claim(Group *g, Client *client, uint64_t flags);

/*
 * Ends client's ownership: slots on the group's devices are detached (bonds
 * go stale), the backend lets go of the group, and detached drivers are
 * rebound. -EPERM if the group is not user-owned, -EACCES if another client
 * owns it. Called during a callback, it is deferred (L9).
 */
int group_release(Group *g, Client *client);

/* Release whatever client owns g, e.g. when policy revokes access. */
int group_revoke(Group *g);

/* After one of g's devices went: with the last one, the claim on g ends
 * (as the kernel's DMA ownership does) and g is freed. Not from a callback
 * (device_unplug() defers, L9). */
void group_device_gone(Group *g);

/* Frees g if it has no device and no owner; returns true if it did. */
bool group_free_if_unused(Group *g);
Group *group_free(Group *g);
int group_get(Core *c, uint32_t id, Group **ret);
