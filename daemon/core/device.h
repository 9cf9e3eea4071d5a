/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* device.h - IOMMU instances, PCI functions, kernel driver binding and unplug */
#pragma once

#include "common/list.h"
#include "core.h"
#include "types.h"

typedef struct FaultStats {
        uint64_t received;      /* complete page request groups */
        uint64_t resolved;      /* answered SUCCESS */
        uint64_t refused;       /* answered INVALID by the service */
        uint64_t timed_out;     /* answered INVALID by timeout */
        uint64_t aborted;       /* answered INVALID because the slot went away */
} FaultStats;

/* Owned by Core.iommus from creation until core_free(). */
struct Iommu {
        Core *core;             /* borrowed */
        char *name;             /* owned */
        ListNode core_link;
        HashNode name_node;     /* in core->iommus_by_name */
        unsigned n_devices;
        void *backend_data;     /* owned by the backend */
};

/* What a backend knows of a device when it appears. */
typedef struct DeviceInfo {
        const char *name;       /* PCI address or sim name */
        uint32_t group;
        const char *iommu;
        uint16_t vendor_id, device_id;
        uint32_t class_code;
        bool pasid, pri, ats;
        uint32_t max_pasids;    /* its PASID capability's: 0..max_pasids-1; 0 if !pasid */
        const char *driver;     /* NULL: no driver bound */
        bool driver_managed_dma;
} DeviceInfo;

/* Where a device is as far as an override goes (override.h). */
typedef enum DeviceHold {
        HOLD_NONE,
        HOLD_ON,                /* on the backend's hold driver (ops->hold_driver) */
        HOLD_LEFT,              /* its driver manages DMA itself (a bridge's): left as it was */
} DeviceHold;

/* Where a device is as far as hand-outs go (handout.h). */
typedef enum HandoutState {
        HANDOUT_NONE,           /* the daemon's, like every claimed device */
        HANDOUT_OPEN,           /* handed to handed_to's driver */
        HANDOUT_RETURNING,      /* its claim ended: the backend takes it back */
} HandoutState;

/*
 * Owned by Core.devices from device_add() until device_unplug() or
 * core_free(). Slots on it are owned by the bonds and space attachments that
 * hold them; unplug detaches them all before the device is freed.
 */
struct Device {
        Core *core;             /* borrowed */
        char *name;             /* owned */
        Group *group;           /* borrowed, never NULL */
        Iommu *iommu;           /* borrowed, never NULL */
        ListNode core_link;     /* in core->devices */
        HashNode name_node;     /* in core->devices_by_name */
        ListNode group_link;    /* in group->devices */

        uint16_t vendor_id, device_id;
        uint32_t class_code;
        bool pasid_capable, pri_capable, ats_capable;
        uint32_t device_max_pasids;     /* what its PASID capability allows */
        /*
         * The PASIDs usable, 0..max_pasids-1: the smaller of the device's and
         * what its IOMMU gives it, once that is known (iommu_info_known);
         * 0 when either has none. PASIDs at or above it are -EOVERFLOW (L7).
         */
        uint32_t max_pasids;
        bool iommu_info_known;          /* iommu_info came from the backend */
        DeviceIommuInfo iommu_info;     /* what the IOMMU does for it, as the backend says */

        char *driver;           /* owned; NULL when no driver is bound */
        bool driver_dma_api;    /* driver counts in group->dma_api_count */
        char *restore_driver;   /* owned; detached by a claim, rebound on release */
        /* An override (override.h): the driver it took away, bound again when
         * it ends (owned; NULL: it had none), and whether d is on the
         * backend's hold driver for it. */
        char *override_driver;
        DeviceHold hold;

        ListNode slots;         /* Slot.device_link, borrowed */
        FaultStats faults;
        /* Test hook (Simulator.HoldPageRequests): its page requests are read
         * and wait unserved, as for a service that is slow to get to them,
         * until their timeout or their slot goes. */
        bool hold_faults;
        DeferNode unplug;

        HandoutState handout;
        Client *handed_to;      /* borrowed, the group's owner, while HANDOUT_OPEN */
        char *handed_to_name;   /* owned: the bus name it was handed to, until it is back; NULL: none */
        uint32_t holder_pid;    /* who the backend saw holding it while RETURNING; 0: nobody seen */
        void *backend_data;     /* owned by the backend */
};

int device_add(Core *c, const DeviceInfo *info, Device **ret);

/*
 * A kernel driver binds (probe) or unbinds (remove). A DMA-API driver (one
 * without driver_managed_dma) cannot bind to a device of a user-owned group:
 * -EBUSY, as the kernel's iommu_device_use_default_domain() refuses (L4).
 */
int device_probe_driver(Device *d, const char *driver, bool driver_managed_dma);
int device_remove_driver(Device *d);

/*
 * The device is gone. Its slots are detached and their faults answered
 * INVALID, its bonds become stale (L3), and the device is freed. Idempotent
 * by name: the second call returns -ENODEV and changes nothing (L1).
 */
int device_unplug(Core *c, const char *name);
void device_free(Device *d);

Slot *device_find_slot(Device *d, uint32_t pasid);

/* Whether d can take an attachment at a PASID: it has the capability and
 * its IOMMU gives it PASIDs (max_pasids > 0). */
static inline bool device_has_pasids(const Device *d) {
        return d->pasid_capable && d->max_pasids > 0;
}

/*
 * Records what the IOMMU does for d (DeviceIommuInfo, from the backend) and
 * makes max_pasids the smaller of the device's and the IOMMU's; announces
 * CORE_EVENT_DEVICE_CHANGED when anything changed.
 */
void device_set_iommu_info(Device *d, const DeviceIommuInfo *info);

/* Stops all DMA through d: its bonds go stale (L3), its space attachments
 * go; each slot is detached and its faults answered first (L2). */
void device_release_slots(Device *d);

int iommu_get(Core *c, const char *name, Iommu **ret);
Iommu *iommu_free(Iommu *i);
