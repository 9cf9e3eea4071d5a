/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver-dma.c - the kernel drivers that manage DMA themselves (driver_managed_dma) */
#include <string.h>

#include "driver-dma.h"

/*
 * Every in-tree PCI driver with `.driver_managed_dma = true`, by the name
 * it registers (its struct pci_driver's .name; KBUILD_MODNAME is the module
 * name, dashes made underscores), as of Linux 7.2:
 *
 *   drivers/vfio/pci/vfio_pci.c                    vfio-pci
 *   drivers/vfio/pci/hisilicon/hisi_acc_vfio_pci.c hisi_acc_vfio_pci
 *   drivers/vfio/pci/ism/main.c                    ism_vfio_pci
 *   drivers/vfio/pci/mlx5/main.c                   mlx5_vfio_pci
 *   drivers/vfio/pci/nvgrace-gpu/main.c            nvgrace_gpu_vfio_pci
 *   drivers/vfio/pci/pds/pci_drv.c                 pds_vfio_pci
 *   drivers/vfio/pci/qat/main.c                    qat_vfio_pci
 *   drivers/vfio/pci/virtio/main.c                 virtio_vfio_pci
 *   drivers/vfio/pci/xe/main.c                     xe-vfio-pci
 *   drivers/pci/pci-stub.c                         pci-stub
 *   drivers/pci/pcie/portdrv.c                     pcieport
 *
 * (vfio_platform, vfio_amba, vfio-fsl-mc and vfio-cdx set it too, on
 * buses that are not PCI.) tests/vm/build-kernel lists the drivers of the
 * kernel the VM lane builds, and the lane fails when one is missing here.
 * Any other name counts as a DMA-API driver, as the kernel's default is.
 */
const char *const driver_managed_dma_drivers[] = {
        "vfio-pci",
        "hisi_acc_vfio_pci",
        "ism_vfio_pci",
        "mlx5_vfio_pci",
        "nvgrace_gpu_vfio_pci",
        "pds_vfio_pci",
        "qat_vfio_pci",
        "virtio_vfio_pci",
        "xe-vfio-pci",
        "pci-stub",
        "pcieport",
};

const size_t driver_managed_dma_drivers_size =
        sizeof(driver_managed_dma_drivers) / sizeof(driver_managed_dma_drivers[0]);

bool driver_manages_dma(const char *driver) {
        if (!driver)
                return false;
        for (size_t i = 0; i < driver_managed_dma_drivers_size; i++)
                if (strcmp(driver, driver_managed_dma_drivers[i]) == 0)
                        return true;
        return false;
}
