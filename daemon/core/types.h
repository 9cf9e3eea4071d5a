/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* types.h - names of the core model's objects and the enums they share */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct Core Core;
typedef struct Iommu Iommu;
typedef struct Group Group;
typedef struct Device Device;
typedef struct Client Client;
typedef struct IoDomain IoDomain;
typedef struct Mapping Mapping;
typedef struct SvaDomain SvaDomain;
typedef struct Bond Bond;
typedef struct Slot Slot;
typedef struct Region Region;
typedef struct Space Space;
typedef struct SpaceAttachment SpaceAttachment;
typedef struct FaultGroup FaultGroup;
typedef struct FaultTable FaultTable;
typedef struct BackendOps BackendOps;
typedef struct User User;

#define PAGE_SIZE_4K 4096u

static inline bool page_aligned(uint64_t v) {
        return (v & (PAGE_SIZE_4K - 1)) == 0;
}

/* Group DMA ownership, as the kernel's group->owner / owner_cnt express it. */
typedef enum Ownership {
        OWNERSHIP_NONE,         /* no DMA users */
        OWNERSHIP_DMA_API,      /* kernel drivers using the DMA API */
        OWNERSHIP_USER,         /* one client, user-managed DMA */
        OWNERSHIP_MACHINE,      /* held for the machine by an override, no client (override.h) */
} Ownership;

const char *ownership_to_string(Ownership o);

/* The type key of a (device, PASID) slot (L6). */
typedef enum SlotType {
        SLOT_SVA,               /* owned by a Bond */
        SLOT_SPACE,             /* owned by a SpaceAttachment */
} SlotType;

/* What an IoDomain serves. */
typedef enum DomainKind {
        DOMAIN_SVA,             /* per (client, IOMMU), IOVA == client VA */
        DOMAIN_SPACE,           /* a client's IOAS, IOVAs chosen by it */
} DomainKind;

/*
 * Resources a client can make the daemon hold; each has a quota (L10). Each
 * is counted per client and per uid (User); the limit applies to the uid's
 * total over all its clients.
 */
typedef enum Resource {
        RES_PASIDS,
        RES_BONDS,
        RES_REGIONS,
        RES_SPACES,
        RES_PENDING_FAULTS,
        RES_GROUPS,
        RES_BYTES,              /* bytes shared (regions) plus bytes mapped in spaces */
        RES_MAPPINGS,           /* mappings made by Space.Map */
        RES_CONNECTIONS,        /* clients (bus connections holding state) */
        RES_OPEN_DEVICES,       /* devices handed out to the client's own driver (OpenDevice) */
        _RES_MAX,
} Resource;

const char *resource_to_string(Resource r);

typedef struct Quota {
        uint64_t limit[_RES_MAX];
} Quota;

/* Access bits of shared memory and mappings (D-Bus: bit 0 read, bit 1 write). */
#define ACCESS_READ  (1u << 0)
#define ACCESS_WRITE (1u << 1)
#define ACCESS_ALL   (ACCESS_READ | ACCESS_WRITE)

/* Page response codes, numerically equal to the kernel's IOMMUFD_PAGE_RESP_*. */
typedef enum FaultCode {
        FAULT_SUCCESS = 0,
        FAULT_INVALID = 1,
} FaultCode;

/* The IOVAs start..last, both included (iommufd's struct iommu_iova_range). */
typedef struct IovaRange {
        uint64_t start, last;
} IovaRange;

/*
 * What the IOMMU does for one device, as the kernel's IOMMU_GET_HW_INFO
 * reports it for a device bound to iommufd (struct iommu_hw_info).
 */
typedef struct DeviceIommuInfo {
        uint8_t max_pasid_log2;         /* PASID width it gives the device; 0: no PASIDs */
        uint64_t capabilities;          /* DEVICE_IOMMU_CAP_* */
} DeviceIommuInfo;

/* DeviceIommuInfo.capabilities, numerically the kernel's IOMMU_HW_CAP_*. */
#define DEVICE_IOMMU_CAP_DIRTY_TRACKING         (UINT64_C(1) << 0)
#define DEVICE_IOMMU_CAP_PASID_EXEC             (UINT64_C(1) << 1)
#define DEVICE_IOMMU_CAP_PASID_PRIV             (UINT64_C(1) << 2)
#define DEVICE_IOMMU_CAP_ATS_NOT_SUPPORTED      (UINT64_C(1) << 3)

/* ClaimGroup() flags. */
#define CLAIM_DETACH_KERNEL_DRIVERS (UINT64_C(1) << 0)
#define CLAIM_FLAGS_ALL CLAIM_DETACH_KERNEL_DRIVERS
