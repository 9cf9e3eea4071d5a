/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-sysfs.h - what sysfs says of IOMMU groups and PCI functions */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "daemon/core/device.h"
#include "driver-dma.h"

/* One function as sysfs shows it; info's strings point into this struct. */
typedef struct SysfsDevice {
        DeviceInfo info;
        char name[64];
        char iommu[64];
        char driver[64];
} SysfsDevice;

/* PCI Express extended capability ids (PCIe base spec). */
#define PCI_EXT_CAP_ATS   0x0f
#define PCI_EXT_CAP_PRI   0x13
#define PCI_EXT_CAP_PASID 0x1b

/*
 * Walks the extended capabilities of a config space (4096 bytes as root can
 * read it; shorter reads have none) and fills info->pasid/max_pasids, pri,
 * ats. max_pasids is 2^(Max PASID Width) from the PASID capability.
 */
void pci_read_ext_caps(const uint8_t *config, size_t len, DeviceInfo *info);

/*
 * Whether driver, bound to PCI function name, manages DMA itself: in the
 * table of driver-dma.h, or a VFIO driver (the function has a VFIO device).
 * Such drivers don't make a group "dma-api" and are never unbound by a claim.
 */
bool sysfs_driver_manages_dma(const char *root, const char *name, const char *driver);

/*
 * Every function of every IOMMU group under root (normally "/sys"):
 * root/kernel/iommu_groups/N/devices/NAME, with ids, class, config space,
 * bound driver and IOMMU instance from root/bus/pci/devices/NAME. *ret is a
 * malloc'ed array. Functions sysfs can't describe fully are skipped with
 * their reason written to *ret_skipped (malloc'ed, may be NULL).
 */
int sysfs_enumerate(const char *root, SysfsDevice **ret, size_t *ret_n, char **ret_skipped);

/* One function, as sysfs_enumerate() reads it; -ENOENT when it is in no
 * IOMMU group. ret's info points into ret. */
int sysfs_read_device(const char *root, const char *name, SysfsDevice *ret);
/*
 * The IOVAs the kernel reserves for the devices of IOMMU group `group`
 * (root/kernel/iommu_groups/N/reserved_regions, iommu_get_group_resv_regions()),
 * but the direct-relaxable ones, which iommufd does not reserve: fills at
 * most n of buf, returns how many there are, or -errno.
 */
int sysfs_read_reserved_regions(const char *root, uint32_t group, IovaRange *buf, size_t n);

/* The name of the driver bound to PCI function name, "" if none. */
void sysfs_read_driver(const char *root, const char *name, char *buf, size_t size);

/* Writes value to the attribute root/fmt... (one write, as sysfs wants it);
 * 0 or -errno. */
_attribute_printf_(3, 4)
int sysfs_write(const char *root, const char *value, const char *fmt, ...);
