/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-internal.h - the kernel backend's state, shared by kernel*.c and selftest.c */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "fault-queue.h"
#include "kernel.h"
#include "common/list.h"

/* The kernel backend's one fault queue; the core knows it by this key. */
#define KERNEL_FAULT_SOURCE 2

/* What the running kernel can do, found out at start-up. */
typedef struct KernelFeatures {
        unsigned major, minor;  /* from uname(): only for messages and PASIDs */
        bool map_file;          /* IOMMU_IOAS_MAP_FILE (6.13) */
        bool pasid;             /* IOMMU_HWPT_ALLOC_PASID, VFIO_DEVICE_ATTACH_PASID (6.15) */
        bool selftest;          /* IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST) */
} KernelFeatures;

typedef struct SelftestDma SelftestDma;

struct KernelBackend {
        Core *core;             /* borrowed, set by kernel_load_topology() */
        char *sysfs;            /* owned: "/sys" outside tests */
        char *devdir;           /* owned: "/dev" outside tests */
        int iommufd;            /* owned */
        KernelFeatures features;

        int fault_fd;           /* owned; -1: no IOMMU_FAULT_QUEUE_ALLOC (before 6.11) */
        uint32_t fault_id;      /* iommufd's id of that queue */
        FaultQueue queue;       /* reads fault_fd */

        /* selftest.c: mock devices and the DMAs waiting on their faults. */
        uint32_t park_ioas;     /* an empty IOAS for mock RIDs to sit on */
        struct KernelDevice *mocks;     /* owned array; Device.backend_data borrows */
        ListNode dmas;          /* SelftestDma.link */
        uint32_t next_grpid;    /* of the page requests the DMAs raise */

        char why[256];          /* why the last -ENOSYS: what is missing, which kernel has it */
};

typedef enum KernelDeviceKind {
        KDEV_VFIO,              /* a PCI function moved to vfio-pci, through its cdev */
        KDEV_MOCK,              /* a selftest mock device */
} KernelDeviceKind;

/*
 * Owned by Device.backend_data: for a VFIO function from its claim until its
 * release; for a mock device for the device's life.
 */
typedef struct KernelDevice {
        KernelDeviceKind kind;
        int cdev;               /* owned VFIO device cdev fd; -1 for mocks */
        uint32_t dev_id;        /* iommufd's device id (fault records carry it) */
        uint32_t stdev_id;      /* mock: the selftest object; destroying it unplugs */
        uint32_t park_hwpt;     /* mock: a PASID-capable, empty HWPT for the RID */
} KernelDevice;

/* One HWPT of a domain, for the devices behind one IOMMU with the same needs. */
typedef struct KernelHwpt {
        const Iommu *iommu;     /* borrowed */
        uint32_t flags;         /* KIOMMU_HWPT_* it was allocated with */
        uint32_t id;
} KernelHwpt;

/* Owned by IoDomain.backend_data: an IOAS and the HWPTs over it. */
typedef struct KernelDomain {
        uint32_t ioas_id;
        KernelHwpt *hwpts;      /* owned array */
        size_t n_hwpts;
} KernelDomain;

/* Sets k->why and returns -ENOSYS: feature needs Linux `version`. */
_attribute_printf_(2, 3)
int kernel_unsupported(KernelBackend *k, const char *fmt, ...);

int kernel_ioctl(int fd, unsigned long request, void *arg);
void kernel_destroy_object(KernelBackend *k, uint32_t id);
int kernel_ioas_alloc(KernelBackend *k, uint32_t *ret);
/* The HWPT of dom for device d, allocated on first use. */
int kernel_domain_hwpt(KernelBackend *k, IoDomain *dom, const Device *d, uint32_t *ret);
/* The HWPT of dom already used for d, or 0. */
uint32_t kernel_domain_find_hwpt(KernelBackend *k, const IoDomain *dom, const Device *d);

/* kernel-domain.c: the ops on domains, slots and faults. */
int kernel_domain_alloc(void *ud, IoDomain *dom);
void kernel_domain_free(void *ud, IoDomain *dom);
int kernel_domain_map(void *ud, IoDomain *dom, const Mapping *m);
void kernel_domain_unmap(void *ud, IoDomain *dom, const Mapping *m);
int kernel_slot_attach(void *ud, Slot *slot);
void kernel_slot_detach(void *ud, Slot *slot);
void kernel_fault_respond(void *ud, const FaultGroup *fg, FaultCode code);

/* selftest.c */
int selftest_mock_attach(KernelBackend *k, KernelDevice *kd, uint32_t pasid, uint32_t hwpt);
void selftest_mock_detach(KernelBackend *k, KernelDevice *kd, uint32_t pasid);
void selftest_dma_answered(KernelBackend *k, const FaultGroup *fg, FaultCode code);
void selftest_dma_fail(KernelBackend *k, const Device *d, uint32_t pasid, const char *why);
