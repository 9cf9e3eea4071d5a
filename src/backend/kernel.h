/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel.h - the kernel backend: real IOMMU groups through sysfs, VFIO cdevs and iommufd */
#pragma once

#include "core/backend.h"
#include "core/core.h"
#include "fault-queue.h"

typedef struct KernelBackend KernelBackend;

/* What the running kernel can do, found out at start-up. */
typedef struct KernelFeatures {
        unsigned major, minor;  /* from uname(): only for messages and PASIDs */
        bool fault_queue;       /* IOMMU_FAULT_QUEUE_ALLOC (6.11) */
        bool map_file;          /* IOMMU_IOAS_MAP_FILE (6.13) */
        bool pasid;             /* IOMMU_HWPT_ALLOC_PASID, VFIO_DEVICE_ATTACH_PASID (6.15) */
        bool selftest;          /* IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST) */
} KernelFeatures;

extern const BackendOps kernel_ops;

/*
 * Opens /dev/iommu (under devdir) and remembers where sysfs is, so tests can
 * point both elsewhere. -ENOENT: this kernel has no iommufd.
 */
int kernel_backend_new(KernelBackend **ret, const char *sysfs, const char *devdir);
KernelBackend *kernel_backend_free(KernelBackend *k);
DEFINE_POINTER_CLEANUP(KernelBackend, kernel_backend_free)

/* Adds every function of every IOMMU group to the core; what sysfs could
 * not describe is named in *ret_skipped (malloc'ed, may be NULL). */
int kernel_load_topology(KernelBackend *k, Core *c, char **ret_skipped);

const KernelFeatures *kernel_features(const KernelBackend *k);
/* "Linux 7.2: fault queues, IOAS_MAP_FILE, PASID attach, selftest" */
void kernel_features_describe(const KernelBackend *k, char *buf, size_t size);

/* Why the last operation said -ENOSYS: the kernel feature and the Linux
 * version that has it. Valid until the next operation. */
const char *kernel_backend_why(const KernelBackend *k);

/*
 * A uevent of PCI function name ("add", "remove", "bind", "unbind", ...):
 * the model follows sysfs. Returns 1 if the model changed, 0 if not, or a
 * negative errno.
 */
int kernel_device_event(KernelBackend *k, const char *action, const char *name);

/* The fault queue all HWPTs report to (NULL: this kernel has none). */
FaultQueue *kernel_fault_queue(KernelBackend *k);
/* The device with iommufd device id dev_id (fault records carry it). */
Device *kernel_device_by_id(KernelBackend *k, uint32_t dev_id);
