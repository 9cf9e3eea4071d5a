/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault-abi.h - the iommufd fault queue's record and response layouts */
#pragma once

#include <stdint.h>

/*
 * The layouts of the kernel's struct iommu_hwpt_pgfault and struct
 * iommu_hwpt_page_response (include/uapi/linux/iommufd.h, Linux 6.11+).
 * Debian 12 ships 6.1 headers, which lack them, so these are our own
 * declarations of the same ABI; the VM lane checks them against the real
 * headers of the kernel it builds. A read() of a fault fd returns whole
 * records; a write() takes one or more responses.
 */
typedef struct IommuHwptPgfault {
        uint32_t flags;         /* FAULT_FLAG_PASID_VALID | FAULT_FLAG_LAST_PAGE */
        uint32_t dev_id;        /* the iommufd device id */
        uint32_t pasid;
        uint32_t grpid;
        uint32_t perm;          /* FAULT_PERM_* */
        uint32_t reserved;
        uint64_t addr;
        uint32_t length;
        uint32_t cookie;
} IommuHwptPgfault;

typedef struct IommuHwptPageResponse {
        uint32_t cookie;
        uint32_t code;          /* FAULT_SUCCESS or FAULT_INVALID */
} IommuHwptPageResponse;

_Static_assert(sizeof(IommuHwptPgfault) == 40, "struct iommu_hwpt_pgfault is 40 bytes");
_Static_assert(__builtin_offsetof(IommuHwptPgfault, addr) == 24, "iommu_hwpt_pgfault.addr at 24");
_Static_assert(__builtin_offsetof(IommuHwptPgfault, cookie) == 36, "iommu_hwpt_pgfault.cookie at 36");
_Static_assert(sizeof(IommuHwptPageResponse) == 8, "struct iommu_hwpt_page_response is 8 bytes");
