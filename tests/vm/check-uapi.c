/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-uapi.c - our own iommufd declarations against the real headers of the lane's kernel */
#include <stddef.h>
#include <stdio.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "backend/fault-abi.h"
#include "backend/kernel-uapi.h"
#include "core/fault.h"

/*
 * Compiled with -I pointing at the uapi headers the lane's kernel installed
 * (make headers_install): every size, offset and constant our code relies on
 * must match the kernel's, or this does not compile.
 */
#define SAME_LAYOUT(ours, theirs, field) \
        _Static_assert(offsetof(ours, field) == offsetof(struct theirs, field), \
                       #ours "." #field " differs from struct " #theirs)

_Static_assert(sizeof(IommuHwptPgfault) == sizeof(struct iommu_hwpt_pgfault), "pgfault size");
SAME_LAYOUT(IommuHwptPgfault, iommu_hwpt_pgfault, flags);
SAME_LAYOUT(IommuHwptPgfault, iommu_hwpt_pgfault, dev_id);
SAME_LAYOUT(IommuHwptPgfault, iommu_hwpt_pgfault, pasid);
SAME_LAYOUT(IommuHwptPgfault, iommu_hwpt_pgfault, grpid);
SAME_LAYOUT(IommuHwptPgfault, iommu_hwpt_pgfault, perm);
SAME_LAYOUT(IommuHwptPgfault, iommu_hwpt_pgfault, addr);
SAME_LAYOUT(IommuHwptPgfault, iommu_hwpt_pgfault, length);
SAME_LAYOUT(IommuHwptPgfault, iommu_hwpt_pgfault, cookie);
_Static_assert(sizeof(IommuHwptPageResponse) == sizeof(struct iommu_hwpt_page_response), "response size");
SAME_LAYOUT(IommuHwptPageResponse, iommu_hwpt_page_response, cookie);
SAME_LAYOUT(IommuHwptPageResponse, iommu_hwpt_page_response, code);

/* The values core/fault.h and core/types.h declare equal to the kernel's. */
_Static_assert(FAULT_FLAG_PASID_VALID == IOMMU_PGFAULT_FLAGS_PASID_VALID, "PASID_VALID");
_Static_assert(FAULT_FLAG_LAST_PAGE == IOMMU_PGFAULT_FLAGS_LAST_PAGE, "LAST_PAGE");
_Static_assert(FAULT_PERM_READ == IOMMU_PGFAULT_PERM_READ, "PERM_READ");
_Static_assert(FAULT_PERM_WRITE == IOMMU_PGFAULT_PERM_WRITE, "PERM_WRITE");
_Static_assert(FAULT_PERM_EXEC == IOMMU_PGFAULT_PERM_EXEC, "PERM_EXEC");
_Static_assert(FAULT_PERM_PRIV == IOMMU_PGFAULT_PERM_PRIV, "PERM_PRIV");
_Static_assert((int)FAULT_SUCCESS == (int)IOMMUFD_PAGE_RESP_SUCCESS, "RESP_SUCCESS");
_Static_assert((int)FAULT_INVALID == (int)IOMMUFD_PAGE_RESP_INVALID, "RESP_INVALID");

/* The kernel backend's VFIO declarations (src/backend/kernel-uapi.h). */
SAME_LAYOUT(VfioDeviceBindIommufd, vfio_device_bind_iommufd, argsz);
SAME_LAYOUT(VfioDeviceBindIommufd, vfio_device_bind_iommufd, flags);
SAME_LAYOUT(VfioDeviceBindIommufd, vfio_device_bind_iommufd, iommufd);
SAME_LAYOUT(VfioDeviceBindIommufd, vfio_device_bind_iommufd, out_devid);
_Static_assert(KVFIO_DEVICE_BIND_IOMMUFD == VFIO_DEVICE_BIND_IOMMUFD, "VFIO_DEVICE_BIND_IOMMUFD");

int main(void) {
        printf("check-uapi: the fault ABI and VFIO bind declarations match the kernel's\n");
        return 0;
}
