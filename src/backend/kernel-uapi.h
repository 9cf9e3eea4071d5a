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
