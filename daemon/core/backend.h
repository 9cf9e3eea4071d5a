/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend.h - the operations the core model drives on an IOMMU backend */
#pragma once

#include "types.h"

/*
 * The core decides, the backend does. Each operation is called by the core
 * at the point the model changes; a backend may not call back into the core
 * from inside an operation (its events go through the core's entry points
 * from the event loop instead).
 *
 * Operations that set something up return 0 or a negative errno, and the core
 * rolls back what it did before. Operations that tear down return nothing:
 * teardown must always complete, so a backend that fails to, say, detach,
 * logs it and forgets the object. The core calls them in the order of rule
 * L2: slot_detach, then fault responses, then domain_unmap, then domain_free,
 * then group_release and driver_attach. A device that goes (unplug, or the
 * kernel taking it back) has its slots detached first, then device_release.
 * A slot_detach answers the slot's pending page requests INVALID itself, as
 * the kernel's detach does (iommufd_auto_response_faults()): the core gives
 * no fault_respond for them.
 *
 * Every pointer passed is borrowed for the duration of the call; a backend
 * may keep its own state in IoDomain.backend_data and Group.backend_data,
 * which it owns and frees in domain_free() / group_release().
 */
struct BackendOps {
        /* Unbinds the DMA-API kernel driver of d (claim with DETACH). */
        int (*driver_detach)(void *ud, Device *d);
        /* Binds driver to d again (claim rollback, group release). */
        int (*driver_attach)(void *ud, Device *d, const char *driver);
        /* Takes g for user-managed DMA; all its DMA-API drivers are gone. */
        int (*group_claim)(void *ud, Group *g);
        void (*group_release)(void *ud, Group *g);
        /* d is going (unplugged, or the core is freed), every slot on it
         * already detached (L2): lets go of what the backend holds for it in
         * Device.backend_data. NULL: a backend that holds nothing per device. */
        void (*device_release)(void *ud, Device *d);

        int (*domain_alloc)(void *ud, IoDomain *dom);
        void (*domain_free)(void *ud, IoDomain *dom);
        int (*domain_map)(void *ud, IoDomain *dom, const Mapping *m);
        void (*domain_unmap)(void *ud, IoDomain *dom, const Mapping *m);

        /* Puts slot->domain at (slot->device, slot->pasid). */
        int (*slot_attach)(void *ud, Slot *slot);
        void (*slot_detach)(void *ud, Slot *slot);

        /* Answers the page request group fg (exactly once per group, never
         * one whose slot was detached). */
        void (*fault_respond)(void *ud, const FaultGroup *fg, FaultCode code);

        /*
         * Optional (NULL: never known). Called after a group's claim
         * succeeded, for each of its devices: what the IOMMU does for d (on
         * the kernel, IOMMU_GET_HW_INFO for the device the claim bound).
         * -errno when the backend does not know for d (a bridge, a device
         * the claim left alone): the model keeps what it had.
         */
        int (*device_iommu_info)(void *ud, const Device *d, DeviceIommuInfo *ret);

        /*
         * Optional (NULL: every IOVA may be mapped). The IOVAs dom allows to
         * be mapped now (the kernel's IOMMU_IOAS_IOVA_RANGES), sorted and
         * apart: fills at most n of buf and returns how many there are (more
         * than n: the core asks again with room), or -errno (the core keeps
         * what it had). Asked after domain_alloc() and after every
         * slot_attach() and slot_detach() of the domain: attachments change
         * them (a device's reserved regions, its IOMMU's aperture).
         */
        int (*domain_iova_ranges)(void *ud, const IoDomain *dom, IovaRange *buf, size_t n);

        /*
         * Optional (NULL: no hand-outs, -EOPNOTSUPP). Opens d afresh for a
         * client's own driver (handout.h): *ret_fd is a new fd the caller
         * takes (on the kernel, d's VFIO cdev, opened and not bound, after
         * the backend let go of its own binding of every device of d's
         * group). Nothing of the daemon uses the group's devices then.
         */
        int (*device_open)(void *ud, Device *d, int *ret_fd);
        /*
         * d's claim ended while it was handed out: takes it back from
         * whoever holds the fd (on the kernel, vfio-pci's unbind, which asks
         * the holder and waits until every fd of d is closed). 0: back now;
         * -EINPROGRESS: group_backend_done() says when. Never gives up: a
         * holder that keeps its fd keeps the group RELEASING. *ret_holder:
         * the pid of a process seen holding d (0: none seen), which the
         * core records for Group.Holders.
         */
        int (*device_take_back)(void *ud, Device *d, uint32_t *ret_holder);

        /*
         * Optional (NULL: no overrides, -EOPNOTSUPP). An override
         * (override.h) holds d, whose DMA-API driver is gone, for the
         * machine: puts it on hold_driver (on the kernel, vfio-pci through
         * driver_override, which also keeps every other driver off it).
         * 1: d is on hold_driver now; 0: left as it was (a function whose
         * driver manages DMA itself, a bridge); -EINPROGRESS: the answer
         * comes through group_backend_done(). driver_unhold() takes d off
         * it again (0: d has no driver now), for the drivers to come back.
         */
        int (*driver_hold)(void *ud, Device *d);
        int (*driver_unhold)(void *ud, Device *d);
        const char *hold_driver;
};
