/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel.h - the kernel backend: real IOMMU groups through sysfs, VFIO cdevs and iommufd */
#pragma once

#include "backend.h"
#include "daemon/core/backend.h"
#include "daemon/core/core.h"
#include "fault-queue.h"

typedef struct KernelBackend KernelBackend;

/*
 * The kernel backend as the daemon's Backend: a KernelBackend on
 * BackendOptions.sysfs and .devdir, its groups loaded from sysfs, hotplug.
 * Its operations take the KernelBackend, so a class on top of it (the
 * selftest's) can call them on its own.
 */
extern const BackendClass kernel_backend_class;

/* The core's operations on a KernelBackend. */
extern const BackendOps kernel_ops;

/*
 * Opens /dev/iommu (under devdir) and remembers where sysfs is, so tests can
 * point both elsewhere; the drivers claims take away are recorded under
 * state_dir (NULL: in memory only, kernel-state.h). -ENOENT: this kernel has
 * no iommufd.
 */
int kernel_backend_new(KernelBackend **ret, const char *sysfs, const char *devdir, const char *state_dir);
KernelBackend *kernel_backend_free(KernelBackend *k);
DEFINE_POINTER_CLEANUP(KernelBackend, kernel_backend_free)
/* kernel_backend_new() on opts->sysfs, opts->devdir and opts->state_dir,
 * saying through opts->log why it failed; then gives back what a previous
 * daemon left on vfio-pci (kernel_state_restore()). For the classes of the
 * kernel backend. */
int kernel_backend_open(KernelBackend **ret, const BackendOptions *opts);

/* Adds every function of every IOMMU group to the core; what sysfs could
 * not describe is named in *ret_skipped (malloc'ed, may be NULL). */
int kernel_load_topology(KernelBackend *k, Core *c, char **ret_skipped);

/* "Linux 7.2: page requests yes (how it was found), IOMMU_IOAS_MAP_FILE yes (...), ..." */
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
