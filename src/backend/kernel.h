/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel.h - the kernel backend: real IOMMU groups through sysfs, VFIO cdevs and iommufd */
#pragma once

#include "core/backend.h"
#include "core/core.h"

typedef struct KernelBackend KernelBackend;

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
