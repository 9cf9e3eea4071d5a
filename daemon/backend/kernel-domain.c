/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-domain.c - the kernel backend's domains, mappings, slots and page responses on iommufd */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/device.h"
#include "daemon/core/domain.h"
#include "daemon/core/group.h"
#include "daemon/core/fault.h"
#include "daemon/core/region.h"
#include "daemon/core/slot.h"
#include "common/macro.h"
#include "kernel-internal.h"
#include "kernel-sysfs.h"
#include "kernel-uapi.h"

/*
 * A model IoDomain is an IOAS plus the HWPTs over it. Mappings go into the
 * IOAS, and iommufd puts them into every HWPT over it. A HWPT is made for a
 * device (iommufd allocates page tables for one IOMMU instance), so a domain
 * gets one per (IOMMU, flags) on the first attach of a device there, and
 * keeps it until the domain is freed: by then the core has detached every
 * slot (L2), so no HWPT is still attached when it is destroyed.
 *
 * Flags, only where the attach needs them: a device with PASIDs (its
 * capability, and PASIDs from its IOMMU: IOMMU_GET_HW_INFO) gets
 * IOMMU_HWPT_ALLOC_PASID on every HWPT, because the kernel allows PASID
 * attachments only while the RID's HWPT is PASID-compatible too
 * (iommufd_hwpt_pasid_compat()); without PASIDs it gets none, since an
 * IOMMU without PASID support may refuse the flag, and a plain HWPT at its
 * RID still works. An SVA domain on a PRI-capable device gets the daemon's
 * fault queue (IOMMU_HWPT_FAULT_ID_VALID), so its page requests reach the
 * fault service; a space maps everything up front and needs none. (A VF is
 * never PRI-capable in the model: the kernel refuses it a fault queue,
 * iommufd_hwpt_compatible_device().)
 */

/*
 * A kernel refusal the core cannot explain (its own checks passed) becomes
 * -EIO, with the command and the kernel's errno in k->why for the daemon's
 * message; running out of memory stays what it is.
 */
static int kernel_refused(KernelBackend *k, int r, const char *what, const Device *d) {
        if (r >= 0 || r == -ENOMEM)
                return r;
        snprintf(k->why, sizeof(k->why), "the kernel refused %s%s%s: %s", what, d ? " for " : "",
                 d ? d->name : "", strerror(-r));
        return -EIO;
}

int kernel_domain_alloc(void *ud, IoDomain *dom) {
        KernelBackend *k = ud;
        KernelDomain *kd = calloc(1, sizeof(*kd));
        int r;

        if (!kd)
                return -ENOMEM;
        r = kernel_ioas_alloc(k, &kd->ioas_id);
        if (r < 0) {
                free(kd);
                return kernel_refused(k, r, "IOMMU_IOAS_ALLOC", NULL);
        }
        dom->backend_data = kd;
        return 0;
}

void kernel_domain_free(void *ud, IoDomain *dom) {
        KernelDomain *kd = dom->backend_data;

        if (!kd)
                return;
        for (size_t i = 0; i < kd->n_hwpts; i++)
                kernel_destroy_object(ud, kd->hwpts[i].id);
        kernel_destroy_object(ud, kd->ioas_id);
        free(kd->hwpts);
        free(kd);
        dom->backend_data = NULL;
}

static uint32_t hwpt_flags(const KernelBackend *k, const IoDomain *dom, const Device *d) {
        uint32_t flags = 0;

        if (device_has_pasids(d) && k->features.pasid == KERNEL_HAS_YES)
                flags |= KIOMMU_HWPT_ALLOC_PASID;
        if (d->pri_capable && k->fault_fd >= 0 && dom->kind == DOMAIN_SVA)
                flags |= KIOMMU_HWPT_FAULT_ID_VALID;
        return flags;
}

uint32_t kernel_domain_find_hwpt(KernelBackend *k, const IoDomain *dom, const Device *d) {
        const KernelDomain *kd = dom->backend_data;
        uint32_t flags = hwpt_flags(k, dom, d);

        for (size_t i = 0; kd && i < kd->n_hwpts; i++)
                if (kd->hwpts[i].iommu == d->iommu && kd->hwpts[i].flags == flags)
                        return kd->hwpts[i].id;
        return 0;
}

int kernel_domain_hwpt(KernelBackend *k, IoDomain *dom, const Device *d, uint32_t *ret) {
        KernelDomain *kd = dom->backend_data;
        const KernelDevice *kdev = d->backend_data;
        IommuHwptAlloc cmd = {
                .size = sizeof(cmd), .flags = hwpt_flags(k, dom, d), .dev_id = kdev->dev_id,
                .pt_id = kd->ioas_id, .fault_id = k->fault_id,
        };
        KernelHwpt *a;
        uint32_t id;
        int r;

        id = kernel_domain_find_hwpt(k, dom, d);
        if (id) {
                *ret = id;
                return 0;
        }
        a = realloc(kd->hwpts, (kd->n_hwpts + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        kd->hwpts = a;
        r = kernel_ioctl(k->iommufd, KIOMMU_HWPT_ALLOC, &cmd);
        if (r < 0)
                return r;
        kd->hwpts[kd->n_hwpts++] = (KernelHwpt) { .iommu = d->iommu, .flags = cmd.flags, .id = cmd.out_hwpt_id };
        *ret = cmd.out_hwpt_id;
        return 0;
}

static uint32_t map_flags(unsigned access) {
        return KIOMMU_IOAS_MAP_FIXED_IOVA | (access & ACCESS_READ ? KIOMMU_IOAS_MAP_READABLE : 0) |
               (access & ACCESS_WRITE ? KIOMMU_IOAS_MAP_WRITEABLE : 0);
}

/*
 * The region's memfd pages at the mapping's IOVA: by file where the kernel
 * can (IOMMU_IOAS_MAP_FILE, 6.13), else through the daemon's own shared
 * mapping of the same memfd (IOMMU_IOAS_MAP by address), which pins the
 * same pages. iommufd pins them until the unmap.
 */
int kernel_domain_map(void *ud, IoDomain *dom, const Mapping *m) {
        KernelBackend *k = ud;
        KernelDomain *kd = dom->backend_data;
        const Region *reg = m->region;

        if (k->features.map_file && reg->memfd >= 0) {
                IommuIoasMapFile cmd = {
                        .size = sizeof(cmd), .flags = map_flags(m->access), .ioas_id = kd->ioas_id,
                        .fd = reg->memfd, .start = reg->offset + m->region_offset,
                        .length = m->length, .iova = m->iova,
                };
                return kernel_refused(k, kernel_ioctl(k->iommufd, KIOMMU_IOAS_MAP_FILE, &cmd),
                                      "IOMMU_IOAS_MAP_FILE", NULL);
        }
        if (reg->backing) {
                IommuIoasMap cmd = {
                        .size = sizeof(cmd), .flags = map_flags(m->access), .ioas_id = kd->ioas_id,
                        .user_va = (uint64_t)(uintptr_t)reg->backing + m->region_offset,
                        .length = m->length, .iova = m->iova,
                };
                return kernel_refused(k, kernel_ioctl(k->iommufd, KIOMMU_IOAS_MAP, &cmd), "IOMMU_IOAS_MAP",
                                      NULL);
        }
        return -EINVAL;         /* no memory behind the region */
}

void kernel_domain_unmap(void *ud, IoDomain *dom, const Mapping *m) {
        KernelBackend *k = ud;
        KernelDomain *kd = dom->backend_data;
        IommuIoasUnmap cmd = { .size = sizeof(cmd), .ioas_id = kd->ioas_id, .iova = m->iova, .length = m->length };

        (void)kernel_ioctl(k->iommufd, KIOMMU_IOAS_UNMAP, &cmd);
}

static int vfio_attach(KernelBackend *k, KernelDevice *kd, uint32_t pasid, uint32_t hwpt) {
        const VfioDevice *vd = container_of(kd, VfioDevice, kd);
        VfioDeviceAttachIommufdPt cmd = {
                .argsz = sizeof(cmd), .flags = pasid ? KVFIO_DEVICE_ATTACH_PASID : 0,
                .pt_id = hwpt, .pasid = pasid,
        };

        return kernel_ioctl(vd->cdev, KVFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd);
}

static void vfio_detach(KernelBackend *k, KernelDevice *kd, uint32_t pasid) {
        const VfioDevice *vd = container_of(kd, VfioDevice, kd);
        VfioDeviceDetachIommufdPt cmd = {
                .argsz = sizeof(cmd), .flags = pasid ? KVFIO_DEVICE_DETACH_PASID : 0, .pasid = pasid,
        };

        (void)kernel_ioctl(vd->cdev, KVFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd);
}

const KernelDeviceOps kernel_vfio_device_ops = {
        .rid_attach_cmd = "VFIO_DEVICE_ATTACH_IOMMUFD_PT",
        .pasid_attach_cmd = "VFIO_DEVICE_ATTACH_IOMMUFD_PT",
        .attach = vfio_attach,
        .detach = vfio_detach,
};

/*
 * The kernel refused an attach with EADDRINUSE: a mapping of the domain
 * lies in IOVAs the attach would reserve (iopt_reserve_iova()): beyond the
 * IOMMU's aperture when the HWPT was made, or in the device's reserved
 * regions at a RID attach. sysfs lists the group's reserved regions
 * (iommu_groups/N/reserved_regions, what iommufd reserves but the
 * direct-relaxable ones): the mapping and the range are named when one
 * matches, else what kind of range it was.
 */
static int kernel_reserved_in_use(KernelBackend *k, const Slot *slot, const char *what) {
        const Device *d = slot->device;
        IovaRange resv[16];
        const Mapping *m;
        int n;

        n = sysfs_read_reserved_regions(k->sysfs, d->group->id, resv, ELEMENTSOF(resv));
        for (int i = 0; i < n && i < (int)ELEMENTSOF(resv); i++)
                list_for_each_entry(m, &slot->domain->mappings, domain_link)
                        if (m->iova <= resv[i].last && m->iova + m->length - 1 >= resv[i].start) {
                                snprintf(k->why, sizeof(k->why), "a mapping at IOVA 0x%" PRIx64 "+0x%" PRIx64
                                         " lies in 0x%" PRIx64 "-0x%" PRIx64 ", which the kernel reserves for "
                                         "%s (iommu_groups/%u/reserved_regions)", m->iova, m->length,
                                         resv[i].start, resv[i].last, d->name, d->group->id);
                                return -EADDRINUSE;
                        }
        snprintf(k->why, sizeof(k->why), "a mapping lies in IOVAs the kernel reserves for %s: %s", d->name, what);
        return -EADDRINUSE;
}

int kernel_slot_attach(void *ud, Slot *slot) {
        KernelBackend *k = ud;
        const Device *d = slot->device;
        KernelDevice *kdev = d->backend_data;
        uint32_t hwpt;
        int r;

        if (!kdev)
                return -EPERM;          /* not claimed: the core checks this first */
        if (slot->pasid && k->features.pasid != KERNEL_HAS_YES)
                return kernel_unsupported(k, "Attaching at a PASID needs Linux 6.15 or later "
                                          "(VFIO_DEVICE_ATTACH_PASID; %s); this is %u.%u",
                                          k->features.pasid_how, k->features.major, k->features.minor);
        if (slot->pasid && kdev->ops == &kernel_vfio_device_ops &&
            container_of(kdev, VfioDevice, kd)->no_pasid_attach)
                return kernel_unsupported(k, "The driver %s is bound with cannot attach at a PASID (its "
                                          "VFIO_DEVICE_ATTACH_IOMMUFD_PT answered EOPNOTSUPP to the PASID flag)",
                                          d->name);
        if (d->pri_capable && k->fault_fd < 0 && slot->domain->kind == DOMAIN_SVA)
                return kernel_unsupported(k, "Serving page requests needs Linux 6.11 or later "
                                          "(IOMMU_FAULT_QUEUE_ALLOC); this is %u.%u",
                                          k->features.major, k->features.minor);
        r = kernel_domain_hwpt(k, slot->domain, d, &hwpt);
        if (r == -EADDRINUSE)
                return kernel_reserved_in_use(k, slot, "its IOMMU's aperture (the HWPT's)");
        if (r < 0)
                return kernel_refused(k, r, "IOMMU_HWPT_ALLOC", d);
        r = kdev->ops->attach(k, kdev, slot->pasid, hwpt);
        if (r == -EADDRINUSE)
                return kernel_reserved_in_use(k, slot, "the reserved regions of its IOMMU group");
        return kernel_refused(k, r, slot->pasid ? kdev->ops->pasid_attach_cmd : kdev->ops->rid_attach_cmd, d);
}

/*
 * The detach answers INVALID the page requests the kernel holds for that
 * attachment, those we read and those still queued, and forgets their
 * cookies: iommufd_hwpt_detach_device() and iommufd_hwpt_replace_device()
 * (a mock RID goes back to its park HWPT by a replace) call
 * iommufd_auto_response_faults(). A response written for one of them later
 * is refused with -EINVAL (iommufd_fault_fops_write()), so the core writes
 * none (L8: their one answer is the kernel's).
 */
void kernel_slot_detach(void *ud, Slot *slot) {
        KernelBackend *k = ud;
        KernelDevice *kdev = slot->device->backend_data;

        if (k->hooks && k->hooks->slot_detach)
                k->hooks->slot_detach(k->hooks_userdata, slot);
        if (kdev)
                kdev->ops->detach(k, kdev, slot->pasid);
}

void kernel_fault_respond(void *ud, const FaultGroup *fg, FaultCode code) {
        KernelBackend *k = ud;

        if (k->fault_fd >= 0)
                fault_queue_respond(&k->queue, fg->cookie, code);
        if (k->hooks && k->hooks->fault_respond)
                k->hooks->fault_respond(k->hooks_userdata, fg, code);
}

/* FaultQueueSent: the kernel took the answer to cookie, or refused it. */
void kernel_fault_sent(void *ud, uint32_t cookie, FaultCode code, int error) {
        KernelBackend *k = ud;

        if (k->hooks && k->hooks->fault_sent)
                k->hooks->fault_sent(k->hooks_userdata, cookie, code, error);
}
