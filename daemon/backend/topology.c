/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* topology.c - the built-in simulated topology every sim run starts from */
#include "topology.h"

#define SIM_VENDOR 0x1b36       /* the PCI vendor id QEMU uses for its own devices */

const DeviceInfo sim_default_topology[] = {
        { .name = "0000:00:02.0", .group = 1, .iommu = "dmar0",
          .vendor_id = SIM_VENDOR, .device_id = 0x00f0, .class_code = 0x120000,
          .pasid = true, .pri = true, .ats = true, .max_pasids = 1u << 20 },
        { .name = "0000:00:03.0", .group = 2, .iommu = "dmar0",
          .vendor_id = 0x8086, .device_id = 0x10d3, .class_code = 0x020000,
          .driver = "e1000e" },
        { .name = "0000:00:03.1", .group = 2, .iommu = "dmar0",
          .vendor_id = 0x8086, .device_id = 0x10d3, .class_code = 0x020000 },
        { .name = "0000:00:04.0", .group = 3, .iommu = "dmar1",
          .vendor_id = SIM_VENDOR, .device_id = 0x00f1, .class_code = 0x120000,
          .pasid = true, .max_pasids = 1u << 16 },
        { .name = "0000:00:05.0", .group = 4, .iommu = "dmar1",
          .vendor_id = SIM_VENDOR, .device_id = 0x00f2, .class_code = 0x120000,
          .pasid = true, .pri = true, .max_pasids = 4 },
};

const size_t sim_default_topology_size = sizeof(sim_default_topology) / sizeof(sim_default_topology[0]);

int topology_load(Core *c, const DeviceInfo *devices, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = device_add(c, &devices[i], NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}
