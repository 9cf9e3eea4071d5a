/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* device.c - IOMMU instances, PCI functions, kernel driver binding and unplug */
#include <errno.h>
#include <string.h>

#include "common/alloc.h"
#include "bond.h"
#include "device.h"
#include "fault.h"
#include "group.h"
#include "handout.h"
#include "pasid.h"
#include "space.h"

int iommu_get(Core *c, const char *name, Iommu **ret) {
        Iommu *i = core_find_iommu(c, name);

        if (!i) {
                i = xzalloc(sizeof(*i));
                if (!i)
                        return -ENOMEM;
                i->name = xstrdup(name);
                if (!i->name) {
                        free(i);
                        return -ENOMEM;
                }
                i->core = c;
                list_add_tail(&c->iommus, &i->core_link);
                hashmap_put(&c->iommus_by_name, &i->name_node, hash_string(i->name));
        }
        *ret = i;
        return 0;
}

Iommu *iommu_free(Iommu *i) {
        if (!i)
                return NULL;
        list_del_init(&i->core_link);
        hashmap_remove(&i->core->iommus_by_name, &i->name_node);
        free(i->name);
        free(i);
        return NULL;
}

static void group_changed(Group *g, Ownership before) {
        if (group_ownership(g) != before)
                core_emit(g->core, CORE_EVENT_GROUP_CHANGED, g->id, 0, 0, NULL);
}

static int device_info_validate(Core *c, const DeviceInfo *info) {
        if (!info->name || !info->name[0] || !info->iommu || !info->iommu[0])
                return -EINVAL;
        if (info->driver && !info->driver[0])
                return -EINVAL;
        if (info->pasid ? info->max_pasids < 2 || info->max_pasids > (1u << 20) : info->max_pasids != 0)
                return -EINVAL;
        if (core_find_device(c, info->name))
                return -EEXIST;
        return 0;
}

/* Links a fully allocated device into its group, IOMMU and the core. */
static void device_link(Device *d, Group *g, Iommu *i) {
        Ownership before = group_ownership(g);

        d->group = g;
        d->iommu = i;
        list_add_tail(&d->core->devices, &d->core_link);
        hashmap_put(&d->core->devices_by_name, &d->name_node, hash_string(d->name));
        if (d->pasid_capable)
                pasid_widths_add(&d->core->pasid_widths, d->max_pasids);
        list_add_tail(&g->devices, &d->group_link);
        g->n_devices++;
        i->n_devices++;
        if (d->driver_dma_api)
                g->dma_api_count++;
        core_emit(d->core, CORE_EVENT_DEVICE_ADDED, g->id, 0, 0, d->name);
        group_changed(g, before);
}

int device_add(Core *c, const DeviceInfo *info, Device **ret) {
        Group *g = NULL;
        Iommu *i = NULL;
        Device *d;
        int r;

        r = device_info_validate(c, info);
        if (r < 0)
                return r;
        g = core_find_group(c, info->group);
        /* L4: hot-added into a user-owned group, a DMA-API driver can't bind. */
        if (g && g->owner && info->driver && !info->driver_managed_dma)
                return -EBUSY;

        d = xzalloc(sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->core = c;
        list_init(&d->core_link);
        list_init(&d->group_link);
        list_init(&d->slots);
        list_init(&d->unplug.link);
        d->unplug.kind = DEFER_DEVICE_UNPLUG;
        d->name = xstrdup(info->name);
        d->driver = info->driver ? xstrdup(info->driver) : NULL;
        if (!d->name || (info->driver && !d->driver)) {
                r = -ENOMEM;
                goto fail;
        }
        d->vendor_id = info->vendor_id;
        d->device_id = info->device_id;
        d->class_code = info->class_code;
        d->pasid_capable = info->pasid;
        d->pri_capable = info->pri;
        d->ats_capable = info->ats;
        d->device_max_pasids = d->max_pasids = info->max_pasids;
        d->driver_dma_api = info->driver && !info->driver_managed_dma;

        r = group_get(c, info->group, &g);
        if (r < 0)
                goto fail;
        r = iommu_get(c, info->iommu, &i);
        if (r < 0)
                goto fail;
        /* The room device_link() counts its max_pasids in. */
        if (d->pasid_capable) {
                r = pasid_widths_reserve(&c->pasid_widths);
                if (r < 0)
                        goto fail;
        }

        device_link(d, g, i);
        if (ret)
                *ret = d;
        return 0;

fail:
        /* A group or IOMMU created just now has no device yet: drop it. */
        if (g)
                group_free_if_unused(g);
        if (i && i->n_devices == 0)
                iommu_free(i);
        free(d->name);
        free(d->driver);
        free(d);
        return r;
}

int device_probe_driver(Device *d, const char *driver, bool driver_managed_dma) {
        Group *g = d->group;
        Ownership before = group_ownership(g);
        char *copy;

        if (!driver || !driver[0])
                return -EINVAL;
        if (d->driver)
                return -EBUSY;
        /* L4, and while a claim or an override detaches the group's drivers too. */
        if (!driver_managed_dma && (g->owner || g->transit == GROUP_CLAIMING || g->transit == GROUP_OVERRIDING))
                return -EBUSY;
        /* Held by an override, d takes its hold driver only: the kernel's
         * driver_override lets no other driver match (pci_match_device()). */
        if (g->overridden && d->hold == HOLD_ON && strcmp(driver, g->core->ops->hold_driver) != 0)
                return -EBUSY;

        copy = xstrdup(driver);
        if (!copy)
                return -ENOMEM;
        d->driver = copy;
        d->driver_dma_api = !driver_managed_dma;
        if (d->driver_dma_api)
                g->dma_api_count++;
        core_emit(d->core, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
        group_changed(g, before);
        return 0;
}

int device_remove_driver(Device *d) {
        Group *g = d->group;
        Ownership before = group_ownership(g);

        if (!d->driver)
                return -ENOENT;
        if (d->driver_dma_api)
                g->dma_api_count--;
        d->driver = mfree(d->driver);
        d->driver_dma_api = false;
        core_emit(d->core, CORE_EVENT_DEVICE_CHANGED, g->id, 0, 0, d->name);
        group_changed(g, before);
        return 0;
}

void device_set_iommu_info(Device *d, const DeviceIommuInfo *info) {
        uint32_t iommu = info->max_pasid_log2 == 0 ? 0 : info->max_pasid_log2 >= PASID_BITS
                         ? 1u << PASID_BITS : 1u << info->max_pasid_log2;
        uint32_t max = d->device_max_pasids < iommu ? d->device_max_pasids : iommu;

        if (d->iommu_info_known && d->max_pasids == max && d->iommu_info.max_pasid_log2 == info->max_pasid_log2 &&
            d->iommu_info.capabilities == info->capabilities)
                return;
        d->iommu_info_known = true;
        d->iommu_info = *info;
        if (d->pasid_capable)
                pasid_widths_change(&d->core->pasid_widths, d->max_pasids, max);
        d->max_pasids = max;
        core_emit(d->core, CORE_EVENT_DEVICE_CHANGED, d->group->id, 0, 0, d->name);
}

Slot *device_find_slot(Device *d, uint32_t pasid) {
        return hashmap_find_entry(Slot, s, &d->core->slots_by_key, key_node, slot_key_hash(d, pasid),
                                  s->device == d && s->pasid == pasid);
}

void device_release_slots(Device *d) {
        while (!list_empty(&d->slots)) {
                Slot *s = list_entry(d->slots.next, Slot, device_link);

                if (s->type == SLOT_SVA)
                        bond_make_stale(container_of(s, Bond, slot));
                else
                        space_attachment_free(container_of(s, SpaceAttachment, slot));
        }
}

int device_unplug(Core *c, const char *name) {
        Device *d = core_find_device(c, name);

        if (!d)
                return -ENODEV;
        if (core_in_callback(c)) {
                core_defer(c, &d->unplug);
                return 0;
        }
        device_free(d);
        return 0;
}

/* Stops DMA through d (L2), lets the backend let go of it, unlinks and
 * frees it. The group goes with its last device, and a claim on it ends
 * then (group_device_gone(), L4). */
void device_free(Device *d) {
        Group *g = d->group;
        Ownership before;

        device_release_slots(d);
        device_handout_forget(d);
        fault_abort_device(d->core, d);
        if (d->core->ops->device_release)
                d->core->ops->device_release(d->core->backend_data, d);
        list_del_init(&d->unplug.link);
        list_del_init(&d->core_link);
        hashmap_remove(&d->core->devices_by_name, &d->name_node);
        if (d->pasid_capable) {
                pasid_widths_remove(&d->core->pasid_widths, d->max_pasids);
                pasid_widths_release(&d->core->pasid_widths);
        }
        if (g) {
                before = group_ownership(g);
                list_del_init(&d->group_link);
                if (g->wait_device == d)
                        g->wait_device = NULL;  /* its answer only moves g on */
                g->n_devices--;
                if (d->driver_dma_api)
                        g->dma_api_count--;
                core_emit(d->core, CORE_EVENT_DEVICE_REMOVED, g->id, 0, 0, d->name);
                group_changed(g, before);
                group_device_gone(g);
        }
        if (d->iommu)
                d->iommu->n_devices--;
        free(d->name);
        free(d->driver);
        free(d->restore_driver);
        free(d->override_driver);
        free(d);
}
