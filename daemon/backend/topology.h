/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* topology.h - the built-in simulated topology every sim run starts from */
#pragma once

#include <stddef.h>

#include "daemon/core/device.h"

/*
 * Two IOMMU instances and five groups:
 *   group 1  0000:00:02.0  PASID (2^20) + PRI + ATS, alone      dmar0
 *   group 2  0000:00:03.0  e1000e (DMA API) bound               dmar0
 *            0000:00:03.1  no driver, same group
 *   group 3  0000:00:04.0  PASID (2^16), no PRI                 dmar1
 *   group 4  0000:00:05.0  PASID with max_pasids 4, PRI         dmar1
 */
extern const DeviceInfo sim_default_topology[];
extern const size_t sim_default_topology_size;

/* Adds every device of a topology to the core; stops at the first error. */
int topology_load(Core *c, const DeviceInfo *devices, size_t n);
