/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver-dma.h - the kernel drivers that manage DMA themselves (driver_managed_dma) */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether the PCI driver named `driver` (as sysfs names it: the .name of
 * its struct pci_driver) sets .driver_managed_dma: such a driver does not
 * put its group in DMA-API use (pci_dma_configure() in
 * drivers/pci/pci-driver.c skips iommu_device_use_default_domain() for it),
 * so it does not count in the group's dma_api_count, and a claim with
 * DETACH_KERNEL_DRIVERS never unbinds it: it is vfio-pci, one of its
 * variants, pci-stub or the PCIe port driver, i.e. most likely another
 * VMM's device. NULL is false. The table is driver_managed_dma_drivers[]
 * (docs/architecture.md); the VM lane checks it against the source of the
 * kernel it builds.
 */
bool driver_manages_dma(const char *driver);

/* The table itself, for the lane's check and the docs: n names. */
extern const char *const driver_managed_dma_drivers[];
extern const size_t driver_managed_dma_drivers_size;
