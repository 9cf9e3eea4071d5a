/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* selftest.h - the selftest backend: the kernel backend plus the kernel's iommufd mock devices */
#pragma once

#include "backend.h"

/*
 * With CONFIG_IOMMUFD_TEST the kernel makes mock devices behind a mock IOMMU
 * on request (IOMMU_TEST_CMD): PASID- and PRI-capable, bound to our iommufd
 * from birth, DMA-less. The selftest backend adds them to the model as
 * devices "mock0", "mock1", ... each in a group of its own, and plays the
 * Simulator interface on them with the real kernel underneath: a DMA raises
 * real page requests (IOMMU_TEST_OP_TRIGGER_IOPF) that come back through
 * the kernel's fault queue to the daemon's fault service, and every page it
 * touches is checked in the kernel's mock page table
 * (IOMMU_TEST_OP_MD_CHECK_MAP) before its bytes move.
 *
 * It is an add-on on top of the kernel backend (kernel.h), which never
 * names it: its state owns a KernelBackend, the core drives kernel_ops,
 * and the mock devices attach through their own KernelDeviceOps. Left out
 * of the build with meson -Dselftest=false.
 */

/* The kernel backend's class, with SELFTEST_MOCKS mock devices, their DMA
 * and CheckMapping/CheckAttachment. Loading fails with -ENOSYS (and says
 * why) when the kernel lacks CONFIG_IOMMUFD_TEST or is older than 6.15. */
extern const BackendClass selftest_backend_class;

#define SELFTEST_GROUP_BASE 100000u     /* model group ids of mock devices */
#define SELFTEST_MOCKS 2                /* mock0 and mock1 */
