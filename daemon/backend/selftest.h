/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* selftest.h - the selftest backend: the kernel backend plus the kernel's iommufd mock devices */
#pragma once

#include "dma.h"
#include "kernel.h"

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
 */

/* The selftest as the daemon's Backend: the kernel backend's class, and
 * SELFTEST_MOCKS mock devices with the Simulator's DMA and checks. */
extern const BackendClass selftest_backend_class;

#define SELFTEST_GROUP_BASE 100000u     /* model group ids of mock devices */
#define SELFTEST_MOCKS 2                /* mock0 and mock1 */

/* Adds n mock devices to the core (after kernel_load_topology()).
 * -ENOSYS when the kernel lacks CONFIG_IOMMUFD_TEST (kernel_backend_why()). */
int selftest_add_mocks(KernelBackend *k, Core *c, unsigned n);

/*
 * The DMA req asks of a mock device, as sim_dma() does it on the sim: the
 * pages the model does not map raise page requests one at a time, and each
 * page's translation is checked in the kernel before the copy. done is
 * called once, maybe from inside a core callback, and must not call the core.
 */
int selftest_dma(KernelBackend *k, const DmaRequest *req);

/*
 * Checks [addr, addr + len) at (d, pasid) in the kernel: every page must be
 * mapped in the model and the kernel's mock page table must map it to the
 * same memfd page. Returns the number of pages checked, or -EFAULT with the
 * first page that differs in why.
 */
int selftest_check_map(KernelBackend *k, Device *d, uint32_t pasid, uint64_t addr, uint64_t len,
                       char *why, size_t why_size);

/*
 * Asks the kernel what is attached at (d, pasid) and compares it with the
 * model. Returns 1 (attached), 0 (nothing), or -EIO with what differs in why.
 */
int selftest_check_attachment(KernelBackend *k, Device *d, uint32_t pasid, char *why, size_t why_size);
