/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kernel-uapi.h - the VFIO/iommufd ioctls the kernel backend uses, declared by us */
#pragma once

#include <stdint.h>
#include <sys/ioctl.h>

/*
 * Debian 12 ships 6.1 uapi headers, older than VFIO's iommufd cdev (6.6).
 * These are our own declarations of the same ABI, only what we use;
 * tests/vm/check-uapi.c compiles them against the headers of the kernel the
 * VM lane builds, and fails on any difference.
 */
#define KVFIO_TYPE ';'
#define KVFIO_BASE 100

/* struct vfio_device_bind_iommufd up to out_devid, the size every kernel
 * since 6.6 accepts (later ones add fields behind flags). */
typedef struct VfioDeviceBindIommufd {
        uint32_t argsz;
        uint32_t flags;
        int32_t iommufd;
        uint32_t out_devid;
} VfioDeviceBindIommufd;

#define KVFIO_DEVICE_BIND_IOMMUFD _IO(KVFIO_TYPE, KVFIO_BASE + 18)

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT / DETACH (6.6); the pasid field and the
 * PASID flag came with 6.15. */
typedef struct VfioDeviceAttachIommufdPt {
        uint32_t argsz;
        uint32_t flags;         /* KVFIO_DEVICE_ATTACH_PASID */
        uint32_t pt_id;
        uint32_t pasid;
} VfioDeviceAttachIommufdPt;

typedef struct VfioDeviceDetachIommufdPt {
        uint32_t argsz;
        uint32_t flags;         /* KVFIO_DEVICE_DETACH_PASID */
        uint32_t pasid;
} VfioDeviceDetachIommufdPt;

#define KVFIO_DEVICE_ATTACH_PASID (1u << 0)
#define KVFIO_DEVICE_DETACH_PASID (1u << 0)
#define KVFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(KVFIO_TYPE, KVFIO_BASE + 19)
#define KVFIO_DEVICE_DETACH_IOMMUFD_PT _IO(KVFIO_TYPE, KVFIO_BASE + 20)

/*
 * VFIO_DEVICE_SET_IRQS with one eventfd as its data (struct vfio_irq_set,
 * then an s32): how the kernel backend gives vfio-pci its device request
 * trigger (VFIO_PCI_REQ_IRQ_INDEX, one of it per device: its
 * VFIO_DEVICE_GET_IRQ_INFO count is 1, flags EVENTFD | NORESIZE).
 */
typedef struct VfioIrqSetEventfd {
        uint32_t argsz;
        uint32_t flags;
        uint32_t index;
        uint32_t start;
        uint32_t count;
        int32_t fd;             /* struct vfio_irq_set's data[] */
} VfioIrqSetEventfd;

#define KVFIO_IRQ_SET_DATA_EVENTFD (1u << 2)
#define KVFIO_IRQ_SET_ACTION_TRIGGER (1u << 5)
#define KVFIO_PCI_REQ_IRQ_INDEX 4u
#define KVFIO_DEVICE_SET_IRQS _IO(KVFIO_TYPE, KVFIO_BASE + 10)

/*
 * /dev/iommu. Every command takes a struct that starts with its size; a
 * kernel that does not know a command answers ENOTTY, one that does not know
 * a flag EOPNOTSUPP.
 */
#define KIOMMUFD_TYPE ';'
#define KIOMMUFD_CMD(n) _IO(KIOMMUFD_TYPE, 0x80 + (n))

typedef struct IommuDestroy {
        uint32_t size;
        uint32_t id;
} IommuDestroy;
#define KIOMMU_DESTROY KIOMMUFD_CMD(0)

typedef struct IommuIoasAlloc {
        uint32_t size;
        uint32_t flags;
        uint32_t out_ioas_id;
} IommuIoasAlloc;
#define KIOMMU_IOAS_ALLOC KIOMMUFD_CMD(1)

/* struct iommu_iova_range: first and last IOVA, both allowed. */
typedef struct IommuIovaRange {
        uint64_t start;
        uint64_t last;
} IommuIovaRange;

/* IOMMU_IOAS_IOVA_RANGES (6.2): the IOVAs an IOAS may map now. num_iovas
 * in: room in allowed_iovas; out: how many there are (EMSGSIZE when more
 * than the room, which is filled). */
typedef struct IommuIoasIovaRanges {
        uint32_t size;
        uint32_t ioas_id;
        uint32_t num_iovas;
        uint32_t reserved;
        uint64_t allowed_iovas;         /* user pointer to IommuIovaRange[num_iovas] */
        uint64_t out_iova_alignment;
} IommuIoasIovaRanges;
#define KIOMMU_IOAS_IOVA_RANGES KIOMMUFD_CMD(4)

#define KIOMMU_IOAS_MAP_FIXED_IOVA (1u << 0)
#define KIOMMU_IOAS_MAP_WRITEABLE (1u << 1)
#define KIOMMU_IOAS_MAP_READABLE (1u << 2)

typedef struct IommuIoasMap {
        uint32_t size;
        uint32_t flags;
        uint32_t ioas_id;
        uint32_t reserved;
        uint64_t user_va;
        uint64_t length;
        uint64_t iova;
} IommuIoasMap;
#define KIOMMU_IOAS_MAP KIOMMUFD_CMD(5)

typedef struct IommuIoasUnmap {
        uint32_t size;
        uint32_t ioas_id;
        uint64_t iova;
        uint64_t length;
} IommuIoasUnmap;
#define KIOMMU_IOAS_UNMAP KIOMMUFD_CMD(6)

#define KIOMMU_HWPT_FAULT_ID_VALID (1u << 2)    /* 6.11 */
#define KIOMMU_HWPT_ALLOC_PASID (1u << 3)       /* 6.15 */

typedef struct IommuHwptAlloc {
        uint32_t size;
        uint32_t flags;
        uint32_t dev_id;
        uint32_t pt_id;
        uint32_t out_hwpt_id;
        uint32_t reserved;
        uint32_t data_type;
        uint32_t data_len;
        uint64_t data_uptr;
        uint32_t fault_id;
        uint32_t reserved2;
} IommuHwptAlloc;
#define KIOMMU_HWPT_ALLOC KIOMMUFD_CMD(9)

/*
 * IOMMU_GET_HW_INFO (6.6; out_capabilities 6.7, out_max_pasid_log2 6.15):
 * what the IOMMU does for a device bound to iommufd. Asked with data_len 0:
 * we read the generic fields, not the driver's own data. A kernel older
 * than a field leaves it as we passed it, 0.
 */
typedef struct IommuHwInfo {
        uint32_t size;
        uint32_t flags;
        uint32_t dev_id;
        uint32_t data_len;
        uint64_t data_uptr;
        uint32_t out_data_type;
        uint8_t out_max_pasid_log2;
        uint8_t reserved[3];
        uint64_t out_capabilities;      /* KIOMMU_HW_CAP_* */
} IommuHwInfo;
#define KIOMMU_GET_HW_INFO KIOMMUFD_CMD(10)

#define KIOMMU_HW_CAP_DIRTY_TRACKING (1u << 0)
#define KIOMMU_HW_CAP_PCI_PASID_EXEC (1u << 1)
#define KIOMMU_HW_CAP_PCI_PASID_PRIV (1u << 2)
#define KIOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED (1u << 3)

typedef struct IommuFaultAlloc {
        uint32_t size;
        uint32_t flags;
        uint32_t out_fault_id;
        uint32_t out_fault_fd;
} IommuFaultAlloc;
#define KIOMMU_FAULT_QUEUE_ALLOC KIOMMUFD_CMD(14)      /* 6.11 */

typedef struct IommuIoasMapFile {
        uint32_t size;
        uint32_t flags;
        uint32_t ioas_id;
        int32_t fd;
        uint64_t start;
        uint64_t length;
        uint64_t iova;
} IommuIoasMapFile;
#define KIOMMU_IOAS_MAP_FILE KIOMMUFD_CMD(15)          /* 6.13 */
