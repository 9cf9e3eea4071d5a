/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sim-iommu.h - what a simulated IOMMU instance does: PASID width, capabilities, allowed IOVAs */
#pragma once

#include "sim-internal.h"

/* BackendOps.device_iommu_info: what IOMMU_GET_HW_INFO would say of d. */
int sim_device_iommu_info(void *ud, const Device *d, DeviceIommuInfo *ret);
/* BackendOps.domain_iova_ranges: what IOMMU_IOAS_IOVA_RANGES would say of dom. */
int sim_domain_iova_ranges(void *ud, const IoDomain *dom, IovaRange *buf, size_t room);
/* The IOVAs attaching slot reserves, as the kernel does: the aperture of
 * the device's IOMMU (kept from then on, as the kernel's HWPT keeps it),
 * and at the RID that IOMMU's reserved regions; -EADDRINUSE with s->why
 * when a mapping of the domain lies there. */
int sim_attach_check(SimBackend *s, const Slot *slot);
