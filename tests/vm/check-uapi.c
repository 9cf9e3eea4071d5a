/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check-uapi.c - our own iommufd declarations against the real headers of the lane's kernel */
#include <stddef.h>
#include <stdio.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "iommufd_test.h"         /* from the lane kernel's source tree (build-kernel) */

#include "daemon/backend/fault-abi.h"
#include "daemon/backend/kernel-uapi.h"
#include "daemon/backend/selftest-uapi.h"
#include "daemon/core/fault.h"

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

/* The kernel backend's VFIO declarations (daemon/backend/kernel-uapi.h). */
SAME_LAYOUT(VfioDeviceBindIommufd, vfio_device_bind_iommufd, argsz);
SAME_LAYOUT(VfioDeviceBindIommufd, vfio_device_bind_iommufd, flags);
SAME_LAYOUT(VfioDeviceBindIommufd, vfio_device_bind_iommufd, iommufd);
SAME_LAYOUT(VfioDeviceBindIommufd, vfio_device_bind_iommufd, out_devid);
_Static_assert(KVFIO_DEVICE_BIND_IOMMUFD == VFIO_DEVICE_BIND_IOMMUFD, "VFIO_DEVICE_BIND_IOMMUFD");

/* VFIO attach/detach at the RID and at PASIDs. */
#define SAME_STRUCT(ours, theirs) _Static_assert(sizeof(ours) == sizeof(struct theirs), #ours " size")
SAME_STRUCT(VfioDeviceAttachIommufdPt, vfio_device_attach_iommufd_pt);
SAME_LAYOUT(VfioDeviceAttachIommufdPt, vfio_device_attach_iommufd_pt, flags);
SAME_LAYOUT(VfioDeviceAttachIommufdPt, vfio_device_attach_iommufd_pt, pt_id);
SAME_LAYOUT(VfioDeviceAttachIommufdPt, vfio_device_attach_iommufd_pt, pasid);
SAME_STRUCT(VfioDeviceDetachIommufdPt, vfio_device_detach_iommufd_pt);
SAME_LAYOUT(VfioDeviceDetachIommufdPt, vfio_device_detach_iommufd_pt, pasid);
_Static_assert(KVFIO_DEVICE_ATTACH_PASID == VFIO_DEVICE_ATTACH_PASID, "ATTACH_PASID");
_Static_assert(KVFIO_DEVICE_DETACH_PASID == VFIO_DEVICE_DETACH_PASID, "DETACH_PASID");
_Static_assert(KVFIO_DEVICE_ATTACH_IOMMUFD_PT == VFIO_DEVICE_ATTACH_IOMMUFD_PT, "ATTACH_IOMMUFD_PT");
_Static_assert(KVFIO_DEVICE_DETACH_IOMMUFD_PT == VFIO_DEVICE_DETACH_IOMMUFD_PT, "DETACH_IOMMUFD_PT");

/* The device request trigger: VFIO_DEVICE_SET_IRQS with one eventfd. */
SAME_LAYOUT(VfioIrqSetEventfd, vfio_irq_set, argsz);
SAME_LAYOUT(VfioIrqSetEventfd, vfio_irq_set, flags);
SAME_LAYOUT(VfioIrqSetEventfd, vfio_irq_set, index);
SAME_LAYOUT(VfioIrqSetEventfd, vfio_irq_set, start);
SAME_LAYOUT(VfioIrqSetEventfd, vfio_irq_set, count);
_Static_assert(offsetof(VfioIrqSetEventfd, fd) == offsetof(struct vfio_irq_set, data), "vfio_irq_set data");
_Static_assert(sizeof(VfioIrqSetEventfd) == sizeof(struct vfio_irq_set) + sizeof(int32_t), "vfio_irq_set size");
_Static_assert(KVFIO_IRQ_SET_DATA_EVENTFD == VFIO_IRQ_SET_DATA_EVENTFD, "DATA_EVENTFD");
_Static_assert(KVFIO_IRQ_SET_ACTION_TRIGGER == VFIO_IRQ_SET_ACTION_TRIGGER, "ACTION_TRIGGER");
_Static_assert(KVFIO_PCI_REQ_IRQ_INDEX == VFIO_PCI_REQ_IRQ_INDEX, "REQ_IRQ_INDEX");
_Static_assert(KVFIO_DEVICE_SET_IRQS == VFIO_DEVICE_SET_IRQS, "DEVICE_SET_IRQS");

/* /dev/iommu commands. */
SAME_STRUCT(IommuDestroy, iommu_destroy);
SAME_LAYOUT(IommuDestroy, iommu_destroy, id);
_Static_assert(KIOMMU_DESTROY == IOMMU_DESTROY, "IOMMU_DESTROY");
SAME_STRUCT(IommuIoasAlloc, iommu_ioas_alloc);
SAME_LAYOUT(IommuIoasAlloc, iommu_ioas_alloc, out_ioas_id);
_Static_assert(KIOMMU_IOAS_ALLOC == IOMMU_IOAS_ALLOC, "IOMMU_IOAS_ALLOC");
SAME_STRUCT(IommuIoasMap, iommu_ioas_map);
SAME_LAYOUT(IommuIoasMap, iommu_ioas_map, ioas_id);
SAME_LAYOUT(IommuIoasMap, iommu_ioas_map, user_va);
SAME_LAYOUT(IommuIoasMap, iommu_ioas_map, length);
SAME_LAYOUT(IommuIoasMap, iommu_ioas_map, iova);
_Static_assert(KIOMMU_IOAS_MAP == IOMMU_IOAS_MAP, "IOMMU_IOAS_MAP");
_Static_assert(KIOMMU_IOAS_MAP_FIXED_IOVA == IOMMU_IOAS_MAP_FIXED_IOVA, "MAP_FIXED_IOVA");
_Static_assert(KIOMMU_IOAS_MAP_WRITEABLE == IOMMU_IOAS_MAP_WRITEABLE, "MAP_WRITEABLE");
_Static_assert(KIOMMU_IOAS_MAP_READABLE == IOMMU_IOAS_MAP_READABLE, "MAP_READABLE");
SAME_STRUCT(IommuIoasMapFile, iommu_ioas_map_file);
SAME_LAYOUT(IommuIoasMapFile, iommu_ioas_map_file, ioas_id);
SAME_LAYOUT(IommuIoasMapFile, iommu_ioas_map_file, fd);
SAME_LAYOUT(IommuIoasMapFile, iommu_ioas_map_file, start);
SAME_LAYOUT(IommuIoasMapFile, iommu_ioas_map_file, length);
SAME_LAYOUT(IommuIoasMapFile, iommu_ioas_map_file, iova);
_Static_assert(KIOMMU_IOAS_MAP_FILE == IOMMU_IOAS_MAP_FILE, "IOMMU_IOAS_MAP_FILE");
SAME_STRUCT(IommuIoasUnmap, iommu_ioas_unmap);
SAME_LAYOUT(IommuIoasUnmap, iommu_ioas_unmap, ioas_id);
SAME_LAYOUT(IommuIoasUnmap, iommu_ioas_unmap, iova);
SAME_LAYOUT(IommuIoasUnmap, iommu_ioas_unmap, length);
_Static_assert(KIOMMU_IOAS_UNMAP == IOMMU_IOAS_UNMAP, "IOMMU_IOAS_UNMAP");
SAME_STRUCT(IommuHwptAlloc, iommu_hwpt_alloc);
SAME_LAYOUT(IommuHwptAlloc, iommu_hwpt_alloc, flags);
SAME_LAYOUT(IommuHwptAlloc, iommu_hwpt_alloc, dev_id);
SAME_LAYOUT(IommuHwptAlloc, iommu_hwpt_alloc, pt_id);
SAME_LAYOUT(IommuHwptAlloc, iommu_hwpt_alloc, out_hwpt_id);
SAME_LAYOUT(IommuHwptAlloc, iommu_hwpt_alloc, data_uptr);
SAME_LAYOUT(IommuHwptAlloc, iommu_hwpt_alloc, fault_id);
_Static_assert(KIOMMU_HWPT_ALLOC == IOMMU_HWPT_ALLOC, "IOMMU_HWPT_ALLOC");
_Static_assert(KIOMMU_HWPT_FAULT_ID_VALID == IOMMU_HWPT_FAULT_ID_VALID, "FAULT_ID_VALID");
_Static_assert(KIOMMU_HWPT_ALLOC_PASID == IOMMU_HWPT_ALLOC_PASID, "ALLOC_PASID");
SAME_STRUCT(IommuIovaRange, iommu_iova_range);
SAME_LAYOUT(IommuIovaRange, iommu_iova_range, start);
SAME_LAYOUT(IommuIovaRange, iommu_iova_range, last);
SAME_STRUCT(IommuIoasIovaRanges, iommu_ioas_iova_ranges);
SAME_LAYOUT(IommuIoasIovaRanges, iommu_ioas_iova_ranges, ioas_id);
SAME_LAYOUT(IommuIoasIovaRanges, iommu_ioas_iova_ranges, num_iovas);
SAME_LAYOUT(IommuIoasIovaRanges, iommu_ioas_iova_ranges, allowed_iovas);
SAME_LAYOUT(IommuIoasIovaRanges, iommu_ioas_iova_ranges, out_iova_alignment);
_Static_assert(KIOMMU_IOAS_IOVA_RANGES == IOMMU_IOAS_IOVA_RANGES, "IOMMU_IOAS_IOVA_RANGES");
SAME_STRUCT(IommuHwInfo, iommu_hw_info);
SAME_LAYOUT(IommuHwInfo, iommu_hw_info, flags);
SAME_LAYOUT(IommuHwInfo, iommu_hw_info, dev_id);
SAME_LAYOUT(IommuHwInfo, iommu_hw_info, data_len);
SAME_LAYOUT(IommuHwInfo, iommu_hw_info, data_uptr);
SAME_LAYOUT(IommuHwInfo, iommu_hw_info, out_data_type);
SAME_LAYOUT(IommuHwInfo, iommu_hw_info, out_max_pasid_log2);
SAME_LAYOUT(IommuHwInfo, iommu_hw_info, out_capabilities);
_Static_assert(KIOMMU_GET_HW_INFO == IOMMU_GET_HW_INFO, "IOMMU_GET_HW_INFO");
_Static_assert(KIOMMU_HW_CAP_DIRTY_TRACKING == IOMMU_HW_CAP_DIRTY_TRACKING, "HW_CAP_DIRTY_TRACKING");
_Static_assert(KIOMMU_HW_CAP_PCI_PASID_EXEC == IOMMU_HW_CAP_PCI_PASID_EXEC, "HW_CAP_PCI_PASID_EXEC");
_Static_assert(KIOMMU_HW_CAP_PCI_PASID_PRIV == IOMMU_HW_CAP_PCI_PASID_PRIV, "HW_CAP_PCI_PASID_PRIV");
_Static_assert(KIOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED == IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED,
               "HW_CAP_PCI_ATS_NOT_SUPPORTED");
/* The model's DEVICE_IOMMU_CAP_* (core/types.h) are the kernel's bits. */
_Static_assert(DEVICE_IOMMU_CAP_DIRTY_TRACKING == IOMMU_HW_CAP_DIRTY_TRACKING, "CAP_DIRTY_TRACKING");
_Static_assert(DEVICE_IOMMU_CAP_PASID_EXEC == IOMMU_HW_CAP_PCI_PASID_EXEC, "CAP_PASID_EXEC");
_Static_assert(DEVICE_IOMMU_CAP_PASID_PRIV == IOMMU_HW_CAP_PCI_PASID_PRIV, "CAP_PASID_PRIV");
_Static_assert(DEVICE_IOMMU_CAP_ATS_NOT_SUPPORTED == IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, "CAP_ATS_NOT_SUPPORTED");
SAME_STRUCT(IommuFaultAlloc, iommu_fault_alloc);
SAME_LAYOUT(IommuFaultAlloc, iommu_fault_alloc, out_fault_id);
SAME_LAYOUT(IommuFaultAlloc, iommu_fault_alloc, out_fault_fd);
_Static_assert(KIOMMU_FAULT_QUEUE_ALLOC == IOMMU_FAULT_QUEUE_ALLOC, "IOMMU_FAULT_QUEUE_ALLOC");

/* The selftest's IOMMU_TEST_CMD (drivers/iommu/iommufd/iommufd_test.h). */
SAME_STRUCT(IommuTestCmd, iommu_test_cmd);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, op);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, id);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, mock_domain_flags.out_stdev_id);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, mock_domain_flags.out_hwpt_id);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, mock_domain_flags.out_idev_id);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, mock_domain_flags.dev_flags);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, mock_domain_replace.pt_id);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, check_map.iova);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, check_map.length);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, check_map.uptr);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, trigger_iopf.dev_id);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, trigger_iopf.pasid);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, trigger_iopf.grpid);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, trigger_iopf.perm);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, trigger_iopf.addr);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, pasid_attach.pasid);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, pasid_attach.pt_id);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, pasid_detach.pasid);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, pasid_check.pasid);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, pasid_check.hwpt_id);
SAME_LAYOUT(IommuTestCmd, iommu_test_cmd, last);
_Static_assert(KIOMMU_TEST_CMD == IOMMU_TEST_CMD, "IOMMU_TEST_CMD");
_Static_assert((int)KTEST_OP_MOCK_DOMAIN == (int)IOMMU_TEST_OP_MOCK_DOMAIN, "OP_MOCK_DOMAIN");
_Static_assert((int)KTEST_OP_MD_CHECK_MAP == (int)IOMMU_TEST_OP_MD_CHECK_MAP, "OP_MD_CHECK_MAP");
_Static_assert((int)KTEST_OP_MOCK_DOMAIN_REPLACE == (int)IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, "OP_MOCK_DOMAIN_REPLACE");
_Static_assert((int)KTEST_OP_MOCK_DOMAIN_FLAGS == (int)IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, "OP_MOCK_DOMAIN_FLAGS");
_Static_assert((int)KTEST_OP_TRIGGER_IOPF == (int)IOMMU_TEST_OP_TRIGGER_IOPF, "OP_TRIGGER_IOPF");
_Static_assert((int)KTEST_OP_PASID_ATTACH == (int)IOMMU_TEST_OP_PASID_ATTACH, "OP_PASID_ATTACH");
_Static_assert((int)KTEST_OP_PASID_DETACH == (int)IOMMU_TEST_OP_PASID_DETACH, "OP_PASID_DETACH");
_Static_assert((int)KTEST_OP_PASID_CHECK_HWPT == (int)IOMMU_TEST_OP_PASID_CHECK_HWPT, "OP_PASID_CHECK_HWPT");
_Static_assert((long long)KMOCK_FLAGS_DEVICE_PASID == (long long)MOCK_FLAGS_DEVICE_PASID, "MOCK_FLAGS_DEVICE_PASID");
_Static_assert((long long)KMOCK_APERTURE_START == (long long)MOCK_APERTURE_START, "MOCK_APERTURE_START");
_Static_assert((long long)KMOCK_APERTURE_LAST == (long long)MOCK_APERTURE_LAST, "MOCK_APERTURE_LAST");
_Static_assert((long long)KMOCK_PASID_WIDTH == (long long)MOCK_PASID_WIDTH, "MOCK_PASID_WIDTH");

int main(void) {
        printf("check-uapi: the fault ABI, VFIO, iommufd and selftest declarations match the kernel's\n");
        return 0;
}
