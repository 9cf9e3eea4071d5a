/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* group.c - IOMMU groups and their DMA ownership: claim and release (L4, L5) */
#include <errno.h>

#include "common/alloc.h"
#include "client.h"
#include "device.h"
#include "group.h"

Ownership group_ownership(const Group *g) {
        if (g->owner)
                return OWNERSHIP_USER;
        return g->dma_api_count > 0 ? OWNERSHIP_DMA_API : OWNERSHIP_NONE;
}

int group_get(Core *c, uint32_t id, Group **ret) {
        Group *g = core_find_group(c, id);

        if (!g) {
                g = xzalloc(sizeof(*g));
                if (!g)
                        return -ENOMEM;
                g->core = c;
                g->id = id;
                list_init(&g->devices);
                list_init(&g->owner_link);
                list_init(&g->release.link);
                g->release.kind = DEFER_GROUP_RELEASE;
                list_add_tail(&c->groups, &g->core_link);
                core_emit(c, CORE_EVENT_GROUP_ADDED, id, 0, 0, NULL);
        }
        *ret = g;
        return 0;
}

Group *group_free(Group *g) {
        if (!g)
                return NULL;
        list_del_init(&g->release.link);
        list_del_init(&g->owner_link);
        list_del_init(&g->core_link);
        free(g);
        return NULL;
}

bool group_free_if_unused(Group *g) {
        if (g->n_devices > 0 || g->owner)
                return false;
        core_emit(g->core, CORE_EVENT_GROUP_REMOVED, g->id, 0, 0, NULL);
        group_free(g);
        return true;
}

/* Rebinds the drivers a claim detached; used on rollback and on release.
 * A driver that refuses stays unbound: the model says what is true. A
 * device that got a driver of its own while the group was owned (one that
 * manages DMA itself, like vfio-pci: L4 lets only those in) keeps it; the
 * kernel would refuse to bind a second one, so the remembered driver is
 * dropped rather than bound over it (which lost the probed one's name). */
static void group_restore_drivers(Group *g) {
        Core *c = g->core;
        Device *d;

        list_for_each_entry(d, &g->devices, group_link) {
                if (!d->restore_driver)
                        continue;
                /* A driver that manages DMA itself (vfio-pci) may have bound
                 * during the claim (device_probe_driver()): it keeps the
                 * device, as in the kernel, and the old driver is forgotten. */
                if (d->driver) {
                        d->restore_driver = mfree(d->restore_driver);
                        continue;
                }
                if (c->ops->driver_attach(c->backend_data, d, d->restore_driver) >= 0) {
                        d->driver = TAKE_PTR(d->restore_driver);
                        d->driver_dma_api = true;
                        g->dma_api_count++;
                } else
                        d->restore_driver = mfree(d->restore_driver);
                core_emit(c, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
        }
}

/* Detaches every DMA-API driver of g, remembering each for restore. */
static int group_detach_drivers(Group *g) {
        Core *c = g->core;
        Device *d;
        int r;

        list_for_each_entry(d, &g->devices, group_link) {
                if (!d->driver_dma_api)
                        continue;
                r = c->ops->driver_detach(c->backend_data, d);
                if (r < 0)
                        return r;
                d->restore_driver = TAKE_PTR(d->driver);
                d->driver_dma_api = false;
                g->dma_api_count--;
                core_emit(c, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
        }
        return 0;
}

/*
 * What the IOMMU does for each device the claim gave the backend (the
 * kernel answers only for a bound device): the effective PASID width, the
 * IOMMU's capabilities. Kept after the release: the IOMMU does not change.
 */
static void group_learn_iommu_info(Group *g) {
        Core *c = g->core;
        Device *d;

        if (!c->ops->device_iommu_info)
                return;
        list_for_each_entry(d, &g->devices, group_link) {
                DeviceIommuInfo info;

                if (c->ops->device_iommu_info(c->backend_data, d, &info) >= 0)
                        device_set_iommu_info(d, &info);
        }
}

int group_claim(Group *g, Client *client, uint64_t flags) {
        Core *c = g->core;
        int r;

        if (flags & ~CLAIM_FLAGS_ALL)
                return -EINVAL;
        if (client->ended)
                return -ESHUTDOWN;
        if (g->owner == client)
                return 0;               /* claims don't nest (L4) */
        if (g->owner)
                return -EBUSY;
        if (g->n_devices == 0)
                return -ENODEV;
        if (g->dma_api_count > 0 && !(flags & CLAIM_DETACH_KERNEL_DRIVERS))
                return -EBUSY;

        r = client_charge(client, RES_GROUPS, 1);
        if (r < 0)
                return r;

        /* L5: from here on, any failure puts every driver back. */
        r = group_detach_drivers(g);
        if (r >= 0)
                r = c->ops->group_claim(c->backend_data, g);
        if (r < 0) {
                group_restore_drivers(g);
                client_uncharge(client, RES_GROUPS, 1);
                return r;
        }

        group_learn_iommu_info(g);
        g->owner = client;
        list_add_tail(&client->groups, &g->owner_link);
        core_emit(c, CORE_EVENT_GROUP_CHANGED, g->id, 0, client->id, NULL);
        return 0;
}

/* Stops all DMA of the owner through g's devices: bonds go stale (L3). */
static void group_release_slots(Group *g) {
        Device *d;

        list_for_each_entry(d, &g->devices, group_link)
                device_release_slots(d);
}

/* The release itself, at a safe point: L2 order, then drivers come back. */
static void group_do_release(Group *g) {
        Core *c = g->core;
        Client *owner = g->owner;

        list_del_init(&g->release.link);
        group_release_slots(g);
        c->ops->group_release(c->backend_data, g);
        list_del_init(&g->owner_link);
        g->owner = NULL;
        client_uncharge(owner, RES_GROUPS, 1);
        group_restore_drivers(g);
        core_emit(c, CORE_EVENT_GROUP_CHANGED, g->id, 0, owner->id, NULL);
        group_free_if_unused(g);
}

/*
 * The kernel frees an IOMMU group with its last device (iommu_group_release()
 * in drivers/iommu/iommu.c, once __iommu_group_remove_device() has dropped
 * the last reference), and the DMA ownership of a claim goes before it:
 * iommufd takes that ownership per bound device (iommufd_device_bind() ->
 * iommu_device_claim_dma_owner()), and the last device's VFIO cdev had to be
 * closed for the device to go at all. A device that comes back (a rescan)
 * is probed into a new group, owned by nobody, so its DMA-API driver binds.
 * The model follows: with its last device the claim ends (slots are gone
 * already, the owner's bonds on it stale, L3) and the group goes. While
 * devices remain, their cdevs keep the ownership, and so does the claim.
 */
void group_device_gone(Group *g) {
        if (g->n_devices == 0 && g->owner)
                group_do_release(g);    /* frees g too */
        else
                group_free_if_unused(g);
}

int group_release(Group *g, Client *client) {
        if (!g->owner)
                return -EPERM;
        if (g->owner != client)
                return -EACCES;
        return group_revoke(g);
}

int group_revoke(Group *g) {
        if (!g->owner)
                return 0;
        if (core_in_callback(g->core)) {
                core_defer(g->core, &g->release);
                return 0;
        }
        group_do_release(g);
        return 0;
}
